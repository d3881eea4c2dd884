"""WhatsApp webhook intake benchmark: signed deliveries/s with 50 concurrent senders.

The connector's routes run on a real aiohttp server on 127.0.0.1; every delivery is a one-message
text payload signed with X-Hub-Signature-256, verified, parsed and committed before the 200 — through
the daemon's GroupCommitter (concurrent deliveries share transactions) or, with ``--direct``, one
``ingest_batch`` per delivery. Run:

    .venv/bin/python bench/whatsapp_webhook.py [--deliveries 3000] [--senders 50] [--direct] [--pg URL]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.whatsapp.config import WhatsAppConfig  # noqa: E402
from connectors.whatsapp.connector import WhatsAppConnector  # noqa: E402
from omnichannel.committer import GroupCommitter  # noqa: E402
from omnichannel.ingest import ingest_batch  # noqa: E402
from omnichannel.protocols import PluginContext  # noqa: E402
from omnichannel.sandbox.whatsapp import DEFAULT_ACCESS_TOKEN, DEFAULT_APP_SECRET, WhatsAppSandbox  # noqa: E402
from omnichannel.store import Store  # noqa: E402

PATH = "/webhooks/whatsapp/bench"


async def run(url: str, deliveries: int, senders: int, direct: bool, tmp: Path) -> None:
    store = Store(url)
    await store.open(migrate=True)
    name = "wa_bench"
    config = WhatsAppConfig(name=name, kind="whatsapp", path=PATH, verify_token="v", app_secret=DEFAULT_APP_SECRET,
                            access_token=DEFAULT_ACCESS_TOKEN, phone_number_id="106540352242922")
    connector = WhatsAppConnector(name, config)
    committer = GroupCommitter(store, name, "whatsapp", 500)

    async def one_by_one(batch):
        return await ingest_batch(store, name, "whatsapp", batch)

    ctx = PluginContext(name=name, data_dir=tmp, attachments_dir=tmp / "att",
                        submit=one_by_one if direct else committer.submit)
    await connector.start(ctx, None)
    app = web.Application()
    app.router.add_routes(connector.routes())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    target = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}{PATH}"  # type: ignore[union-attr]
    builder = WhatsAppSandbox()
    requests = []
    for n in range(deliveries):
        payload = builder.text_payload(f"62812{n:07d}", f"Lampu PJU mati di Jalan Merdeka nomor {n}, sudah 3 hari",
                                       name="Warga")
        body = builder.body(payload)
        requests.append((body, builder.headers(body)))
    latencies: list[float] = []
    failures = 0
    queue = iter(requests)

    async def sender(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        for body, headers in queue:
            started = time.perf_counter()
            async with session.post(target, data=body, headers=headers) as resp:
                await resp.read()
                failures += resp.status != 200
            latencies.append(time.perf_counter() - started)

    connections = aiohttp.TCPConnector(limit=senders)
    async with aiohttp.ClientSession(connector=connections, timeout=aiohttp.ClientTimeout(total=60)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(sender(session) for _ in range(senders)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    mode = "one transaction per delivery" if direct else "group commit"
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"{backend} ({mode}), {senders} senders: {deliveries} verified deliveries in {elapsed:.2f}s = "
          f"{deliveries / elapsed:,.0f}/s; latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms; non-200: {failures}")
    await runner.cleanup()
    await connector.stop()
    await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--direct", action="store_true", help="no group commit: one transaction per delivery")
    parser.add_argument("--pg", help="PostgreSQL URL instead of a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite+aiosqlite:///{tmp}/bench.db"
        await run(url, args.deliveries, args.senders, args.direct, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
