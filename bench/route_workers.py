"""What ``routing.workers`` buys: the router pipeline over stored complaints, alone and with prepare workers.

Run: .venv/bin/python bench/route_workers.py [--messages 3000] [--workers 0,1,2] [--runs 2]

Stores ``--messages`` complaints (the tuning cities' own routing messages in turn, from 700 senders, one a second)
in a SQLite store on /dev/shm, then routes them with ``RouterPipeline.process_pending(500)`` as a router process
does, once per worker count and run, each in a fresh copy of the store. Prints routed messages per second of wall
time, the router process's CPU per message and how many messages the router prepared itself (the rest its
workers did). Only routing is timed: no intake competes for the cores, so this is the router's own ceiling; the
end-to-end figure is bench/imap_ingest.py --route-process --route-workers N. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bench.imap_ingest as imap_bench  # noqa: E402
import router.prepare as prepare  # noqa: E402
from omnichannel.ingest import ingest_batch  # noqa: E402
from omnichannel.store import Store  # noqa: E402
from omnichannel.templates import Templates  # noqa: E402
from omnichannel.types import Batch, Envelope, Sender  # noqa: E402
from router.pipeline import RouterPipeline  # noqa: E402

HERE = {"messages": 0}  # messages the router prepared itself (counted through _Batch.here)


def _counting_here(original):
    def here(self, j: int) -> None:
        HERE["messages"] += len(self.chunks[j])
        return original(self, j)
    return here


def texts() -> list[str]:
    out = []
    for city in sorted((ROOT / "tests" / "data" / "cities").iterdir()):
        facts = (city / "city.yaml").read_text(encoding="utf-8")
        if "held_out: true" in facts or not (city / "routing.jsonl").exists():
            continue
        out += [json.loads(line)["text"] for line in (city / "routing.jsonl").read_text(encoding="utf-8").splitlines()]
    return out


async def seed(path: Path, count: int) -> None:
    store = Store(f"sqlite+aiosqlite:///{path}")
    await store.open(migrate=True)
    words, start = texts(), datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    envelopes = [Envelope(external_id=f"m{i}", raw=words[i % len(words)], text=words[i % len(words)],
                          sender=Sender(id=f"u{i % 700}@warga.id", email=f"u{i % 700}@warga.id"),
                          received_at=start + timedelta(seconds=i)) for i in range(count)]
    for k in range(0, count, 500):
        await ingest_batch(store, "email", "email", Batch(envelopes[k:k + 500]))
    await store.close()


async def route(path: Path, workers: int) -> tuple[int, float, float, int]:
    imap_bench.ROUTE_WORKERS = workers
    config = imap_bench.bench_config()
    store = Store(f"sqlite+aiosqlite:///{path}")
    await store.open(migrate=False)
    pipeline = RouterPipeline(config, store, Templates(config.templates, config.templates_dir))
    await pipeline.start()  # not timed: workers start, the index is built
    HERE["messages"] = 0
    wall, cpu, routed = time.perf_counter(), time.process_time(), 0
    while (done := await pipeline.process_pending(500)) > 0:
        routed += done
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await pipeline.stop()
    await store.close()
    return routed, wall, cpu, HERE["messages"] if workers else routed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--workers", default="0,1", help="worker counts to compare, comma-separated")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    prepare._Batch.here = _counting_here(prepare._Batch.here)
    work = Path(tempfile.mkdtemp(prefix="omni-route-workers-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    try:
        seeded = work / "seeded.db"
        asyncio.run(seed(seeded, args.messages))
        print(f"{args.messages} complaints stored; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
              f"on {os.cpu_count()} cores")
        for run in range(args.runs):
            for workers in (int(w) for w in args.workers.split(",")):
                copy = work / f"run-{run}-{workers}.db"
                shutil.copy(seeded, copy)
                routed, wall, cpu, here = asyncio.run(route(copy, workers))
                print(f"routing.workers {workers}: {routed} routed in {wall:.2f} s = {routed / wall:,.0f} msg/s; "
                      f"router CPU {cpu / routed * 1e3:.2f} ms/msg; prepared by the router itself: {here}")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
