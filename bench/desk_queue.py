"""Officers' queue and search latency with many tickets in the store (SQLite and PostgreSQL).

Usage: ``python bench/desk_queue.py [--tickets 100000] [--requests 200] [--backends sqlite,postgresql]
[--keep DIR] [--views WORD]``.
Fills a fresh store with ``--tickets`` cases, complaints (synthetic texts) and tickets over 16 agencies,
logs a coordinator and an agency officer in over HTTP (the real login, cookie and CSRF path), and times
``GET /api/v1/tickets`` for the views a desk uses: the default open queue, each filter (agency, status,
kind, channel, overdue, assigned to me, unassigned), pages deep into the queue, and full-text search for a
common, a two-word and a rare query. Prints wall-clock p50/p99 per view and the load average.
``--keep DIR`` keeps the filled SQLite file and PostgreSQL database (named in DIR) and reuses them on the
next run, so a change to the queries can be measured without filling again (migrations still run).
Figures only; nothing is asserted. PostgreSQL needs the service on 127.0.0.1:5432 (skipped otherwise).
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
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import ClientSession, CookieJar, web  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402
from synthetic_complaints import Generator  # noqa: E402

from omnichannel import search  # noqa: E402
from omnichannel.config import parse_config  # noqa: E402
from omnichannel.models import Case, Complaint, Ticket, User  # noqa: E402
from omnichannel.store import Store  # noqa: E402
from omnichannel.templates import Templates  # noqa: E402
from omnichannel.types import utcnow  # noqa: E402
from omnichannel.web.desk import routes  # noqa: E402

AGENCIES = [f"opd{i:02d}" for i in range(16)]
CHANNELS = ("telegram", "whatsapp", "x", "email", "webform")
PASSWORD = "bench-password-123"


def config():
    lines = "\n".join(f"  - {{code: {a}, name: Dinas {a.upper()}}}" for a in AGENCIES)
    return parse_config(f"connectors: []\nagencies:\n{lines}\n", env={})


async def fill(store: Store, n: int) -> None:
    async with store.session() as s:
        if (await s.exec(text("SELECT count(*) FROM tickets"))).scalar_one() < n:  # else kept (--keep)
            await _insert(store, n)
    if store.engine.dialect.name == "postgresql":
        async with store.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))


async def _insert(store: Store, n: int) -> None:
    gen, now = Generator(seed=11), utcnow()
    chunk = 5000
    for start in range(1, n + 1, chunk):
        ids = range(start, min(n, start + chunk - 1) + 1)
        cases, complaints, tickets = [], [], []
        for i in ids:
            created = now - timedelta(minutes=i * 7)
            body = gen.text()
            agency = AGENCIES[i % len(AGENCIES)]
            status = ("baru", "diterima", "diproses", "selesai", "selesai", "ditolak")[i % 6]
            kind = ("pengaduan", "pengaduan", "pengaduan", "aspirasi", "pengaduan", "informasi", "pengaduan")[i % 7]
            cases.append({"id": i, "ref": f"KAS-2026-{i:07d}", "title": None, "location": {"text": f"RT {i % 15}"},
                          "complaint_count": 1, "reporter_count": 1, "created_at": created, "updated_at": created})
            complaints.append({"id": i, "ref": f"ADU-2026-{i:07d}", "connector": "web",
                               "channel": CHANNELS[i % len(CHANNELS)], "text": body, "status": "routed",
                               "anonymous": False, "confidential": False, "case_id": i, "agency": agency,
                               "kind": kind, "created_at": created})
            tickets.append({"id": i, "ref": f"TIK-2026-{i:07d}", "case_id": i, "agency": agency, "kind": kind,
                            "status": status, "sla_due": created + timedelta(days=5), "sla_extended": False,
                            "overdue": False, "created_at": created, "updated_at": created,
                            "assigned_to": "ani" if i % 48 == 3 else None})
        async with store.engine.begin() as conn:
            await conn.execute(insert(Case), cases)
            await conn.execute(insert(Complaint), complaints)
            await conn.execute(insert(Ticket), tickets)
    async with store.session() as s:
        hasher = PasswordHasher()
        s.add(User(login="kora", name="Kora", role="koordinator", agencies=[], password_hash=hasher.hash(PASSWORD)))
        s.add(User(login="ani", name="Ani", role="petugas", agencies=[AGENCIES[3]],
                   password_hash=hasher.hash(PASSWORD)))
        await s.commit()


async def login(server: TestServer, who: str) -> ClientSession:
    http = ClientSession(base_url=str(server.make_url("")), cookie_jar=CookieJar(unsafe=True))
    async with http.post("/api/v1/session", json={"login": who, "password": PASSWORD}) as resp:
        assert resp.status == 200, await resp.text()
    return http


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def measure(backend: str, url: str, n: int, requests: int, only: str = "") -> None:
    store = Store(url)
    await store.open(migrate=True)
    started = time.perf_counter()
    await fill(store, n)
    print(f"\n{backend}: {n:,} tickets filled in {time.perf_counter() - started:.1f} s")
    # the officers' search index is filled after the commit (omnichannel.search, the daemon's indexer): the
    # bulk fill queued every complaint, so index them now, or every search would find nothing
    started = time.perf_counter()
    indexed = await search.flush(store)
    if store.dialect == "postgresql":  # vacuumed and with statistics, as autovacuum keeps on a store that grew over months:
        async with store.engine.connect() as conn:  # a bulk fill of 100,000 tickets outruns it
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM ANALYZE"))
    print(f"search index: {indexed:,} complaints indexed in {time.perf_counter() - started:.1f} s")
    app = web.Application()
    app.router.add_routes(routes(store, config(), Templates(), None))
    server = TestServer(app)
    await server.start_server()
    kora, ani = await login(server, "kora"), await login(server, "ani")
    open_ = "status=baru,diterima,diproses"
    views = [
        ("coordinator, open queue (default)", kora, f"?{open_}"),
        ("coordinator, everything", kora, ""),
        ("coordinator, one agency", kora, f"?agency={AGENCIES[5]}&{open_}"),
        ("coordinator, status selesai", kora, "?status=selesai"),
        ("coordinator, kind aspirasi", kora, f"?kind=aspirasi&{open_}"),
        ("coordinator, channel whatsapp", kora, f"?channel=whatsapp&{open_}"),
        ("coordinator, overdue only", kora, "?overdue=true"),
        ("coordinator, unassigned", kora, f"?assigned=none&{open_}"),
        ("coordinator, open page at offset 5000", kora, f"?{open_}&offset=5000"),
        ("coordinator, open page at offset 40000", kora, f"?{open_}&offset=40000"),
        ("coordinator, open page after ticket 40000 (keyset)", kora, f"?{open_}&after=" + "{after}"),
        ("coordinator, newest first at offset 5000", kora, "?offset=5000&sort=-created_at"),
        ("officer, own agency, assigned to me", ani, "?assigned=me"),
        ("officer, own agency", ani, f"?{open_}"),
        ("officer, own agency, channel x", ani, f"?channel=x&{open_}"),
        ("search, common word (jalan)", kora, "?q=jalan"),
        ("search, two words", kora, "?q=lampu%20mati"),
        ("search, common word, open only", kora, f"?q=jalan&{open_}"),
        ("search, officer's agency", ani, "?q=jalan"),
        ("search, rare word", kora, "?q=" + Generator(seed=11).streets[7].split()[-1]),
    ]
    views = [v for v in views if not only or only in v[0]]
    try:
        print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"{'view':<42} {'p50 ms':>8} {'p99 ms':>8} {'rows':>6} {'total':>8}")
        for label, http, query in views:
            if "{after}" in query:  # the cursor the page before offset 40000 hands out
                async with http.get(f"/api/v1/tickets?{open_}&offset=39950") as resp:
                    cursor = (await resp.json()).get("next_after")
                if not cursor:
                    print(f"{label:<42} {'(no keyset paging in this version)':>33}")
                    continue
                query = query.replace("{after}", cursor)
            times, total, rows = [], 0, 0
            for _ in range(requests):
                t0 = time.perf_counter()
                async with http.get("/api/v1/tickets" + query) as resp:
                    doc = await resp.json()
                times.append((time.perf_counter() - t0) * 1000)
                assert resp.status == 200, doc
                total, rows = doc["total"], len(doc["tickets"])
            print(f"{label:<42} {statistics.median(times):8.1f} {pct(times, 99):8.1f} {rows:6d} {total:8d}",
                  flush=True)
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        await kora.close()
        await ani.close()
        await server.close()
        await store.close()


async def pg_database() -> str | None:
    import asyncpg

    try:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres", timeout=3)
    except (OSError, asyncpg.PostgresError):
        return None
    name = f"omni_bench_{uuid.uuid4().hex[:10]}"
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return name


async def drop_pg(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--keep", default="", help="keep the filled stores here and reuse them next time")
    parser.add_argument("--views", default="", help="only the views whose label contains this")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        if backend == "sqlite":
            if args.keep:
                Path(args.keep).mkdir(parents=True, exist_ok=True)
                await measure("SQLite", f"sqlite+aiosqlite:///{Path(args.keep).resolve()}/bench.db", args.tickets,
                              args.requests, args.views)
                continue
            with tempfile.TemporaryDirectory() as tmp:
                await measure("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.tickets, args.requests,
                              args.views)
        elif backend == "postgresql":
            kept = Path(args.keep) / "postgresql" if args.keep else None
            name = kept.read_text().strip() if kept and kept.exists() else await pg_database()
            if name is None:
                print("\nPostgreSQL: not running on 127.0.0.1:5432, skipped")
                continue
            if kept:
                kept.write_text(name)
            try:
                await measure("PostgreSQL", f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", args.tickets,
                              args.requests, args.views)
            finally:
                if not kept:
                    await drop_pg(name)


if __name__ == "__main__":
    asyncio.run(main())
