"""Telegram ingest benchmark: Bot API sandbox → TelegramConnector → store, updates/s per batch size.

Each round queues N private-chat text messages (distinct senders, so reporters are created too) in
the sandbox, then drains them the way the daemon does: getUpdates(limit=B) → ingest_batch (one
transaction with the checkpoint) → ack. Run:

    .venv/bin/python bench/telegram_ingest.py [--updates 2000] [--batch 1 --batch 100] [--pg URL]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.telegram.config import TelegramConfig  # noqa: E402
from connectors.telegram.connector import TelegramConnector  # noqa: E402
from omnichannel.ingest import ingest_batch  # noqa: E402
from omnichannel.protocols import PluginContext  # noqa: E402
from omnichannel.sandbox.telegram import TelegramSandbox  # noqa: E402
from omnichannel.store import Store  # noqa: E402

TEXT = "Jalan berlubang besar di Jl. Merdeka RT {n} RW 04 Kelurahan Sukamaju, sudah dua minggu belum diperbaiki"


async def one_round(url: str, updates: int, batch_size: int, tmp: Path) -> tuple[float, int, int]:
    store = Store(url)
    await store.open(migrate=True)
    name = f"tg_b{batch_size}"
    try:
        async with TelegramSandbox() as sandbox:
            for n in range(updates):
                sandbox.say(100_000 + n, TEXT.format(n=n))
            config = TelegramConfig(name=name, kind="telegram", token=sandbox.token, base_url=sandbox.base_url,
                                    batch_size=batch_size, long_poll_timeout=0, request_timeout=10)
            connector = TelegramConnector(name, config)
            ctx = PluginContext(name=name, data_dir=tmp, attachments_dir=tmp / "att")
            await connector.start(ctx, await store.load_checkpoint(name))
            stored = polls = 0
            started = time.perf_counter()
            try:
                while stored < updates:
                    batch = await connector.poll()
                    polls += 1
                    if not batch.envelopes:
                        continue
                    result = await ingest_batch(store, name, "telegram", batch)
                    await connector.ack(batch, result)
                    stored += result.new
            finally:
                elapsed = time.perf_counter() - started
                await connector.stop()
    finally:
        await store.close()
    return elapsed, stored, polls


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--batch", type=int, action="append", help="getUpdates limit (repeatable)")
    parser.add_argument("--pg", help="also run on this PostgreSQL URL (postgresql+asyncpg://...)")
    args = parser.parse_args()
    batches = args.batch or [1, 100]
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("sqlite", None)] + ([("postgresql", args.pg)] if args.pg else [])
        for backend, pg in targets:
            for size in batches:
                count = min(args.updates, 500) if size == 1 else args.updates
                url = pg or f"sqlite+aiosqlite:///{tmp}/bench_{size}.db"
                elapsed, stored, polls = await one_round(url, count, size, Path(tmp))
                print(f"{backend:10s} batch {size:3d}: {stored} updates in {elapsed:.2f}s = "
                      f"{stored / elapsed:,.0f} updates/s ({polls} getUpdates calls)")


if __name__ == "__main__":
    asyncio.run(main())
