"""Cost of the desk's live updates (``omnichannel.web.events``): one poll of the database and its fan-out.

Usage: ``python bench/desk_events.py [--tickets 100000] [--listeners 500] [--polls 200] [--backends sqlite,postgresql]``.
Fills a fresh store with ``--tickets`` tickets (and as many audit rows), attaches ``--listeners`` listeners
(officers of 16 agencies and coordinators) to one hub, and times ``Hub.poll`` when nothing changed (what every
second costs while officers watch) and when 50 tickets changed since the last poll (each change handed to
every listener allowed to see it). The poll is one per process, whatever the number of open streams.
Wall-clock p50/p99 in milliseconds; figures only, nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from omnichannel.models import AuditEvent, Case, Ticket  # noqa: E402
from omnichannel.store import Store  # noqa: E402
from omnichannel.types import utcnow  # noqa: E402
from omnichannel.web import events  # noqa: E402
from omnichannel.web.officer_api import Caller  # noqa: E402

AGENCIES = [f"opd{i:02d}" for i in range(16)]


async def fill(store: Store, n: int) -> None:
    now = utcnow()
    for start in range(1, n + 1, 5000):
        ids = range(start, min(n, start + 4999) + 1)
        async with store.engine.begin() as conn:
            await conn.execute(insert(Case), [{"id": i, "ref": f"KAS-2026-{i:07d}", "complaint_count": 1,
                                               "reporter_count": 1, "created_at": now, "updated_at": now} for i in ids])
            await conn.execute(insert(Ticket), [{"id": i, "ref": f"TIK-2026-{i:07d}", "case_id": i,
                                                 "agency": AGENCIES[i % 16], "kind": "pengaduan", "status": "baru",
                                                 "sla_extended": False, "overdue": False, "created_at": now,
                                                 "updated_at": now} for i in ids])
            await conn.execute(insert(AuditEvent), [{"actor": "user:x", "action": "note", "subject_type": "ticket",
                                                     "subject_ref": f"TIK-2026-{i:07d}", "detail": {}, "at": now}
                                                    for i in ids])


async def change(store: Store, n: int, k: int) -> None:
    async with store.session() as s:
        for j in range(k):
            s.add(AuditEvent(actor="user:y", action="assign", subject_type="ticket",
                             subject_ref=f"TIK-2026-{(j * 7919) % n + 1:07d}", detail={}))
        await s.commit()


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def run(url: str, label: str, n: int, listeners: int, polls: int) -> None:
    store = Store(url)
    await store.open(migrate=True)
    try:
        t0 = time.perf_counter()
        await fill(store, n)
        filled = time.perf_counter() - t0
        hub = events.Hub(store)
        for i in range(listeners):
            caller = Caller(frozenset(), True, f"user:k{i}", None, f"k{i}", "koordinator") if i % 10 == 0 else \
                Caller(frozenset({AGENCIES[i % 16]}), False, f"user:p{i}", None, f"p{i}", "petugas")
            listener = events.Listener(caller)
            listener.queue = asyncio.Queue()  # unbounded here: the bench measures the fan-out, not the overflow
            hub.listeners.add(listener)
        t, a = await hub.heads()
        hub.tickets, hub.audit = events.Cursor(t), events.Cursor(a)
        idle, busy, handed = [], [], 0
        for _ in range(polls):
            s = time.perf_counter()
            await hub.poll()
            idle.append((time.perf_counter() - s) * 1000)
        for _ in range(max(1, polls // 4)):
            await change(store, n, 50)
            s = time.perf_counter()
            await hub.poll()
            busy.append((time.perf_counter() - s) * 1000)
        handed = sum(x.queue.qsize() for x in hub.listeners)
        print(f"{label:<11} tickets {n:>7}  listeners {listeners:>4}  fill {filled:5.1f}s | poll, nothing new: "
              f"p50 {statistics.median(idle):6.2f} ms p99 {pct(idle, 0.99):6.2f} ms | poll, 50 changes: "
              f"p50 {statistics.median(busy):6.2f} ms p99 {pct(busy, 0.99):6.2f} ms "
              f"({handed / max(1, len(busy)):.0f} events handed out per poll)")
    finally:
        await store.close()


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tickets", type=int, default=100_000)
    p.add_argument("--listeners", type=int, default=500)
    p.add_argument("--polls", type=int, default=200)
    p.add_argument("--backends", default="sqlite,postgresql")
    args = p.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores shared)")
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                await run(f"sqlite+aiosqlite:///{tmp}/bench.db", "sqlite", args.tickets, args.listeners, args.polls)
        elif backend == "postgresql":
            import asyncpg

            name = f"omni_bench_events_{uuid.uuid4().hex[:8]}"
            try:
                admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
            except OSError:
                print("postgresql  skipped: not running on 127.0.0.1:5432")
                continue
            await admin.execute(f'CREATE DATABASE "{name}"')
            try:
                await run(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", "postgresql", args.tickets,
                          args.listeners, args.polls)
            finally:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
