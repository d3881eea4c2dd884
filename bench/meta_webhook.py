"""Facebook + Instagram webhook intake benchmark: signed deliveries stored per second with 50 concurrent senders.

Both connectors' routes run on one real aiohttp server on 127.0.0.1, as in the daemon. Every delivery is
one event built by the Meta sandbox in Meta's shape — a Messenger DM, an Instagram DM, a Facebook comment
or an Instagram comment, in turn — signed with X-Hub-Signature-256, verified, parsed and committed before
the 200, through the daemon's GroupCommitter (concurrent deliveries share transactions) or, with
``--direct``, one ``ingest_batch`` per delivery. Run:

    .venv/bin/python bench/meta_webhook.py [--deliveries 3000] [--senders 50] [--direct] [--pg URL]

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
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.meta.config import FacebookConfig, InstagramConfig  # noqa: E402
from connectors.meta.facebook import FacebookConnector  # noqa: E402
from connectors.meta.instagram import InstagramConnector  # noqa: E402
from omnichannel.committer import GroupCommitter  # noqa: E402
from omnichannel.ingest import ingest_batch  # noqa: E402
from omnichannel.models import EnvelopeRow  # noqa: E402
from omnichannel.protocols import PluginContext  # noqa: E402
from omnichannel.sandbox.meta import DEFAULT_ACCESS_TOKEN, DEFAULT_APP_SECRET, IG_ID, PAGE_ID, MetaSandbox  # noqa: E402
from omnichannel.store import Store  # noqa: E402


def connectors() -> list[tuple[str, object]]:
    common = {"verify_token": "v", "app_secret": DEFAULT_APP_SECRET, "access_token": DEFAULT_ACCESS_TOKEN,
              "page_id": PAGE_ID, "catch_up": False}
    return [("facebook", FacebookConnector("fb_bench", FacebookConfig(name="fb_bench", kind="facebook",
                                                                       path="/webhooks/facebook/bench", **common))),
            ("instagram", InstagramConnector("ig_bench", InstagramConfig(
                name="ig_bench", kind="instagram", path="/webhooks/instagram/bench", instagram_account_id=IG_ID,
                **common)))]


async def run(url: str, deliveries: int, senders: int, direct: bool, tmp: Path) -> None:
    store = Store(url)
    await store.open(migrate=True)
    app = web.Application()
    started = []
    for platform, connector in connectors():
        committer = GroupCommitter(store, connector.name, platform, 500)

        async def one_by_one(batch, name=connector.name, channel=platform):
            return await ingest_batch(store, name, channel, batch)

        ctx = PluginContext(name=connector.name, data_dir=tmp, attachments_dir=tmp / "att",
                            submit=one_by_one if direct else committer.submit, extra={"store": store})
        await connector.start(ctx, None)
        app.router.add_routes(connector.routes())
        started.append((platform, connector))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    builder = MetaSandbox()
    requests = []
    for n in range(deliveries):
        platform = "facebook" if n % 2 == 0 else "instagram"
        user = builder.user(platform, f"Warga {n}")
        text = f"Lampu PJU mati di Jalan Merdeka nomor {n}, sudah 3 hari"
        payload = builder.dm_payload(platform, user, text) if n % 4 < 2 else builder.comment_payload(platform, user,
                                                                                                        text)
        body = builder.body(payload)
        requests.append((f"{base}/webhooks/{platform}/bench", body, builder.headers(body)))
    latencies: list[float] = []
    failures = 0
    queue = iter(requests)

    async def sender(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        for target, body, headers in queue:
            begun = time.perf_counter()
            async with session.post(target, data=body, headers=headers) as resp:
                await resp.read()
                failures += resp.status != 200
            latencies.append(time.perf_counter() - begun)

    connections = aiohttp.TCPConnector(limit=senders)
    async with aiohttp.ClientSession(connector=connections, timeout=aiohttp.ClientTimeout(total=60)) as session:
        begun = time.perf_counter()
        await asyncio.gather(*(sender(session) for _ in range(senders)))
        elapsed = time.perf_counter() - begun
    async with store.session() as session:
        stored = (await session.exec(select(func.count()).select_from(EnvelopeRow))).scalar_one()
    latencies.sort()
    mode = "one transaction per delivery" if direct else "group commit"
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"{backend} ({mode}), {senders} senders: {deliveries} signed Facebook/Instagram deliveries stored in "
          f"{elapsed:.2f}s = {deliveries / elapsed:,.0f}/s; latency p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms; non-200: {failures}; envelopes in the store: {stored}")
    await runner.cleanup()
    for _, connector in started:
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
