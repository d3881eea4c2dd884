"""WhatsApp webhook intake benchmark: signed deliveries/s with 50 concurrent senders.

The connector's routes run on a real aiohttp server on 127.0.0.1; every delivery is a one-message
text payload signed with X-Hub-Signature-256, verified, parsed and committed before the 200 — through
the daemon's GroupCommitter (concurrent deliveries share transactions) or, with ``--direct``, one
``ingest_batch`` per delivery. Run:

    .venv/bin/python bench/whatsapp_webhook.py [--deliveries 3000] [--senders 50] [--direct] [--pg URL]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.webhook_load import arguments, intake_context, post_all, serve, setting  # noqa: E402
from connectors.whatsapp.config import WhatsAppConfig  # noqa: E402
from connectors.whatsapp.connector import WhatsAppConnector  # noqa: E402
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
    await connector.start(intake_context(store, name, "whatsapp", tmp, direct), None)
    runner, base = await serve(connector.routes())
    builder = WhatsAppSandbox()
    requests = []
    for n in range(deliveries):
        payload = builder.text_payload(f"62812{n:07d}", f"Lampu PJU mati di Jalan Merdeka nomor {n}, sudah 3 hari",
                                       name="Warga")
        body = builder.body(payload)
        requests.append((f"{base}{PATH}", body, builder.headers(body)))
    load = await post_all(requests, senders)
    backend, mode = setting(url, direct)
    print(f"{backend} ({mode}), {senders} senders: {deliveries} verified deliveries in {load.figures()}")
    await runner.cleanup()
    await connector.stop()
    await store.close()


async def main() -> None:
    parser = arguments(__doc__)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite+aiosqlite:///{tmp}/bench.db"
        await run(url, args.deliveries, args.senders, args.direct, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
