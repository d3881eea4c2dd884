"""X ingest benchmark: sandbox mentions timeline → XConnector (tweepy AsyncClient, pages of 100) → store.

Run: .venv/bin/python bench/x_ingest.py [--tweets 20000] [--max-pages 10] [--no-pg]
Seeds the X sandbox with mentions (roots from many citizens, self-replies forming threads, retweets),
then polls until dry, storing each batch with its checkpoint through the real ingest path. Prints
tweets/s end to end and the split between fetching (HTTP + JSON + parsing) and storing. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.x.config import XConfig  # noqa: E402
from connectors.x.connector import XConnector  # noqa: E402
from omnichannel.ingest import ingest_batch  # noqa: E402
from omnichannel.protocols import PluginContext  # noqa: E402
from omnichannel.sandbox.x import XSandbox  # noqa: E402
from omnichannel.store import Store  # noqa: E402

PLACES = ["Jl. Merdeka", "Kel. Sukamaju", "Kec. Cibeunying", "RT 03/RW 05 Cikutra", "Pasar Kosambi"]
PROBLEMS = ["jalan berlubang", "lampu PJU mati", "sampah menumpuk", "drainase tersumbat", "air PDAM keruh"]


def seed(sandbox: XSandbox, tweets: int, rng: random.Random) -> dict[str, int]:
    """Post ``tweets`` mentions: ~85% new complaints, ~10% self-replies (threads), ~5% retweets."""
    roots: list[tuple[str, str]] = []
    kinds = {"root": 0, "self_reply": 0, "retweet": 0}
    for i in range(tweets):
        roll = rng.random()
        if roots and roll < 0.10:
            tid, author = rng.choice(roots)
            sandbox.post_tweet(f"sudah {rng.randint(2, 9)} hari belum ada perbaikan", author, in_reply_to=tid)
            kinds["self_reply"] += 1
        elif roots and roll < 0.15:
            sandbox.post_tweet("", f"rt_{rng.randint(0, 500)}", retweet_of=rng.choice(roots)[0])
            kinds["retweet"] += 1
        else:
            author = f"warga_{i}"
            text = f"{rng.choice(PROBLEMS)} di {rng.choice(PLACES)} nomor {i}, mohon ditindaklanjuti #LaporWalikota"
            roots.append((sandbox.post_mention(text, author)["id"], author))
            kinds["root"] += 1
    return kinds


async def run(url: str, label: str, tweets: int, max_pages: int, rng_seed: int) -> None:
    store = Store(url)
    await store.open(migrate=True)
    sandbox = XSandbox(limits={"mentions": 100_000})
    await sandbox.start()
    try:
        kinds = seed(sandbox, tweets, random.Random(rng_seed))
        config = XConfig(name="x", kind="x", bearer_token=sandbox.bearer_token,
                         account_username=sandbox.account_username, api_base_url=sandbox.base_url,
                         max_results=100, max_pages=max_pages)
        connector = XConnector("x", config)
        work = Path(tempfile.mkdtemp(prefix="omni-xbench-"))
        await connector.start(PluginContext(name="x", data_dir=work, attachments_dir=work), None)
        fetch = store_time = 0.0
        outcomes: dict[str, int] = {}
        batches = 0
        started = time.perf_counter()
        while True:
            t0 = time.perf_counter()
            batch = await connector.poll()
            t1 = time.perf_counter()
            fetch += t1 - t0
            if not batch.envelopes and batch.checkpoint is None:
                break
            result = await ingest_batch(store, "x", "x", batch)
            await connector.ack(batch, result)
            store_time += time.perf_counter() - t1
            batches += 1
            for item in result.items:
                outcomes[item.outcome] = outcomes.get(item.outcome, 0) + 1
        elapsed = time.perf_counter() - started
        await connector.stop()
        pages = sandbox.count("mentions")
        stored = sum(outcomes.values())
        print(f"[{label}] {stored:,} tweets stored in {elapsed:.2f}s = {stored / elapsed:,.0f} tweets/s end to end "
              f"({pages} page requests of up to 100, {batches} batches of up to {100 * max_pages})")
        print(f"[{label}]   fetch+parse {fetch:.2f}s ({stored / fetch:,.0f} tweets/s), "
              f"store {store_time:.2f}s ({stored / store_time:,.0f} tweets/s)")
        print(f"[{label}]   seeded {kinds}; stored outcomes {dict(sorted(outcomes.items()))}")
    finally:
        await sandbox.stop()
        await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tweets", type=int, default=20_000)
    parser.add_argument("--max-pages", type=int, default=10, help="pages per poll, i.e. batch size / 100")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="omni-xbench-"))
    await run(f"sqlite+aiosqlite:///{work}/x.db", "sqlite", args.tweets, args.max_pages, args.seed)
    from tests.conftest import PG_HOST, PG_PORT, PG_USER, _pg_admin, pg_available

    if args.no_pg or not pg_available():
        print(f"[postgresql] skipped ({'--no-pg' if args.no_pg else f'nothing on {PG_HOST}:{PG_PORT}'})")
        return
    name = f"omni_xbench_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        await run(f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}", "postgresql", args.tweets,
                  args.max_pages, args.seed)
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
