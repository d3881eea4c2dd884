"""Facebook + Instagram webhook intake benchmark: signed deliveries stored per second with 50 concurrent senders.

Both connectors' routes run on one real aiohttp server on 127.0.0.1, as in the daemon. Every delivery is
one event built by the Meta sandbox in Meta's shape — a Messenger DM, an Instagram DM, a Facebook comment
or an Instagram comment, in turn — signed with X-Hub-Signature-256, verified, parsed and committed before
the 200, through the daemon's GroupCommitter (concurrent deliveries share transactions) or, with
``--direct``, one ``ingest_batch`` per delivery. Run:

    .venv/bin/python bench/meta_webhook.py [--deliveries 3000] [--senders 50] [--direct] [--pg URL]
                                           [--platform both|facebook|instagram]

With both platforms, two connectors commit side by side (two group committers on one store), as in a
daemon that runs both; one platform compares with bench/whatsapp_webhook.py (one connector).

Prints figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.webhook_load import arguments, intake_context, post_all, serve, setting  # noqa: E402
from connectors.meta.config import FacebookConfig, InstagramConfig  # noqa: E402
from connectors.meta.facebook import FacebookConnector  # noqa: E402
from connectors.meta.instagram import InstagramConnector  # noqa: E402
from omnichannel.models import EnvelopeRow  # noqa: E402
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


async def run(url: str, deliveries: int, senders: int, direct: bool, tmp: Path, only: str) -> None:
    store = Store(url)
    await store.open(migrate=True)
    started = []
    for platform, connector in connectors():
        if only not in ("both", platform):
            continue
        await connector.start(intake_context(store, connector.name, platform, tmp, direct, {"store": store}), None)
        started.append((platform, connector))
    runner, base = await serve([route for _, connector in started for route in connector.routes()])
    builder = MetaSandbox()
    requests = []
    for n in range(deliveries):
        platform = only if only != "both" else ("facebook" if n % 2 == 0 else "instagram")
        user = builder.user(platform, f"Warga {n}")
        text = f"Lampu PJU mati di Jalan Merdeka nomor {n}, sudah 3 hari"
        payload = builder.dm_payload(platform, user, text) if n % 4 < 2 else builder.comment_payload(platform, user,
                                                                                                        text)
        body = builder.body(payload)
        requests.append((f"{base}/webhooks/{platform}/bench", body, builder.headers(body)))
    load = await post_all(requests, senders)
    async with store.session() as session:
        stored = (await session.exec(select(func.count()).select_from(EnvelopeRow))).scalar_one()
    backend, mode = setting(url, direct)
    print(f"{backend} ({mode}, {only}), {senders} senders: {deliveries} signed deliveries stored in "
          f"{load.figures()}; envelopes in the store: {stored}")
    await runner.cleanup()
    for _, connector in started:
        await connector.stop()
    await store.close()


async def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--platform", choices=["both", "facebook", "instagram"], default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite+aiosqlite:///{tmp}/bench.db"
        await run(url, args.deliveries, args.senders, args.direct, Path(tmp), args.platform)


if __name__ == "__main__":
    asyncio.run(main())
