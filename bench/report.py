"""Report benchmark: ``omnichannel report`` and the dashboard's figures over a year with 1,000,000 complaints.

Builds a store on SQLite (or, with --postgres, on a fresh PostgreSQL database, dropped after) through
the migrations (so with every index), fills it with bulk inserts (sqlite3 executemany; asyncpg COPY) —
a year of complaints across agencies, channels, kinds and kecamatan (tickets unstamped, as after
migration 0006: the first report stamps them, omnichannel.reports.stamps); 70 % open a case and a ticket,
the rest are resends, cross-channel follow-ups and incident reports; tickets answered, closed,
reopened, overdue; information requests with decisions and keberatan — then times a year's report
(the CLI's figures) and the dashboard's (figures, daily trend, oldest overdue), each a few times.

Run: .venv/bin/python bench/report.py [--complaints 1000000] [--postgres] [--runs 3] [--keep DIR]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omnichannel.config import parse_config  # noqa: E402
from omnichannel.reports.figures import build_report  # noqa: E402
from omnichannel.sla import SlaConfig, WorkingCalendar  # noqa: E402
from omnichannel.store import Store  # noqa: E402

AGENCIES = ["pupr", "dlh", "dinkes", "disdik", "disdukcapil", "dishub", "satpolpp", "dinsos", "pdam", "perkim",
            "bpbd", "diskominfo", "kec-coblong", "kec-sukajadi", "triage"]
CHANNELS = ["whatsapp", "telegram", "email", "x", "webform"]
KECAMATAN = ["Andir", "Astanaanyar", "Bandung Kulon", "Bojongloa Kaler", "Cibeunying Kidul", "Cicendo", "Coblong",
             "Kiaracondong", "Lengkong", "Regol", "Sukajadi", "Sukasari", "Sumur Bandung", "Ujungberung"]
YEAR = 2026
CHUNK = 50_000
TOKEN = "bench-coordinator-token"
CONFIG = "\n".join(["http:", "  coordinator_tokens:", "    - ${BENCH_COORDINATOR}", "agencies:"]
                   + [f"  - {{code: {a}, name: Instansi {a}}}" for a in AGENCIES if a != "triage"]
                   + ["sla:", "  cuti_bersama: [2026-02-16, 2026-03-18, 2026-03-20, 2026-03-23, 2026-03-24, "
                      "2026-05-15, 2026-05-28, 2026-12-24]"])


def sqlite_time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class Generator:
    """A year of complaints, cases, tickets, follow-ups and keberatan, in chunks of rows."""

    def __init__(self, complaints: int, calendar: WorkingCalendar, seed: int = 18) -> None:
        self.n = complaints
        self.calendar = calendar
        self.rng = random.Random(seed)
        self.start = datetime(YEAR, 1, 1, tzinfo=calendar.zone).astimezone(UTC)
        self.seconds = 365 * 86400
        self.sla = calendar.cfg
        self.due: dict[tuple[date, str, bool], datetime] = {}

    def deadline(self, received: datetime, kind: str, extended: bool) -> datetime:
        day = self.calendar.local_date(received)
        key = (day, kind, extended)
        if key not in self.due:
            days = self.sla.deadline_days(kind) + (self.sla.extension_days(kind) if extended else 0)
            self.due[key] = self.calendar.add_working_days(received, days)
        return self.due[key]

    def later(self, at: datetime, lo_hours: float, hi_hours: float) -> datetime:
        return at + timedelta(hours=self.rng.uniform(lo_hours, hi_hours))

    def chunks(self):
        """Yield dicts of table → rows (tuples in the column order of ``COLUMNS``)."""
        rng = self.rng
        case_id = ticket_id = envelope_id = objection_id = 0
        roots: list[tuple[int, int, str]] = []  # (complaint id, case id, agency) of recent cases
        for base in range(0, self.n, CHUNK):
            out: dict[str, list[tuple]] = {"complaints": [], "cases": [], "tickets": [], "envelopes": [],
                                           "follow_ups": [], "objections": []}
            for cid in range(base + 1, min(self.n, base + CHUNK) + 1):
                created = self.start + timedelta(seconds=self.seconds * (cid - 1) / self.n + rng.random())
                channel = rng.choice(CHANNELS)
                roll = rng.random()
                kind = "informasi" if roll < 0.05 else ("aspirasi" if roll < 0.15 else "pengaduan")
                agency = "diskominfo" if kind == "informasi" else rng.choice(AGENCIES)
                kec = rng.choice(KECAMATAN) if rng.random() < 0.6 else None
                location = json.dumps({"kecamatan": kec}) if kec else None
                outcome = rng.random()
                if outcome < 0.70 or not roots:  # a new case and its ticket
                    case_id += 1
                    ticket_id += 1
                    roots.append((cid, case_id, agency))
                    if len(roots) > 500:
                        roots.pop(0)
                    out["complaints"].append((cid, f"ADU-{YEAR}-{cid:07d}", channel, channel, "…", "routed", kind,
                                              agency, location, kec, case_id, None, None, created))
                    out["cases"].append((case_id, f"KAS-{YEAR}-{case_id:07d}", created, created))
                    out["tickets"].append(self._ticket(ticket_id, case_id, agency, kind, created))
                    if kind == "informasi" and rng.random() < 0.05:
                        objection_id += 1
                        filed = self.later(created, 24 * 12, 24 * 30)
                        answered = self.later(filed, 24, 24 * 40) if rng.random() < 0.8 else None
                        out["objections"].append((objection_id, f"KEB-{YEAR}-{objection_id:06d}", ticket_id,
                                                  rng.choice("abcdefg"), filed,
                                                  self.calendar.add_working_days(filed, 30), answered,
                                                  "ditolak" if answered else None, filed))
                    continue
                root, case, root_agency = rng.choice(roots)
                level = "incident" if outcome < 0.85 else ("resend" if outcome < 0.95 else "cross_channel")
                status = "routed" if level == "incident" else "merged"
                out["complaints"].append((cid, f"ADU-{YEAR}-{cid:07d}", channel, channel, "…", status, kind,
                                          root_agency, location, kec, case, root if level != "incident" else None,
                                          level, created))
                if level != "incident":
                    envelope_id += 1
                    out["envelopes"].append((envelope_id, channel, f"e{envelope_id}", created, created))
                    out["follow_ups"].append((root, envelope_id, level, created))
            yield out

    def _ticket(self, tid: int, case_id: int, agency: str, kind: str, received: datetime) -> tuple:
        rng = self.rng
        extended = kind == "informasi" and rng.random() < 0.1
        due = self.deadline(received, kind, extended)
        first = self.later(received, 0.5, 24 * 6) if rng.random() < 0.9 else None
        closed = self.later(first, 2, 24 * 14) if first is not None and rng.random() < 0.85 else None
        status = "selesai" if closed else ("diproses" if first else "baru")
        info, reason = None, None
        if kind == "informasi" and closed:
            roll = rng.random()
            info = "dikabulkan" if roll < 0.7 else ("dikabulkan_sebagian" if roll < 0.85 else "ditolak")
            if info != "dikabulkan":
                reason = rng.choice(["pasal17a", "pasal17h", "pasal17j", "belum_dikuasai", "belum_didokumentasikan"])
            if info == "ditolak":
                status = "ditolak"
        reopened = 1 if closed and rng.random() < 0.03 else 0
        routed = "triage" if rng.random() < 0.02 else agency  # 2 % came through the triage desk and were moved
        return (tid, f"TIK-{YEAR}-{tid:07d}", case_id, agency, kind, status, due, extended, received, received,
                closed, received, first, reopened, info, reason, routed)


COLUMNS = {
    "complaints": "id, ref, connector, channel, text, status, kind, agency, location, kecamatan, case_id, "
                  "duplicate_of, dedup_level, created_at",
    "cases": "id, ref, created_at, updated_at",
    "tickets": "id, ref, case_id, agency, kind, status, sla_due, sla_extended, created_at, updated_at, closed_at, "
               "received_at, first_response_at, reopened, info_outcome, refusal_reason, routed_agency",
    "envelopes": "id, channel, external_id, received_at, stored_at",
    "follow_ups": "complaint_id, envelope_id, reason, created_at",
    "objections": "id, ref, ticket_id, reason, filed_at, due_at, answered_at, outcome, created_at",
}
# constant columns every row shares (NOT NULL without a server default)
CONSTANTS = {
    "complaints": {"anonymous": False, "confidential": False},
    "cases": {"complaint_count": 1, "reporter_count": 1},
    "tickets": {"overdue": False},
    "envelopes": {"connector": "bench", "raw": b"", "origin": "{}", "meta": "{}", "attachments": "[]",
                  "outcome": "follow_up"},
    "follow_ups": {},
    "objections": {"actor": "bench"},
}
ORDER = ["cases", "complaints", "tickets", "envelopes", "follow_ups", "objections"]


def fill_sqlite(path: str, gen: Generator) -> int:
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    total = 0
    for chunk in gen.chunks():
        for table in ORDER:
            rows = chunk[table]
            if not rows:
                continue
            consts = CONSTANTS[table]
            cols = COLUMNS[table].split(", ") + list(consts)
            fixed = list(consts.values())
            conv = [tuple(sqlite_time(v) if isinstance(v, datetime) else v for v in r) + tuple(fixed) for r in rows]
            db.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", conv)
        db.commit()
        total += len(chunk["complaints"])
        print(f"  {total:,} complaints", end="\r", flush=True)
    db.execute("ANALYZE")
    db.commit()
    db.close()
    return total


async def fill_postgres(url: str, gen: Generator) -> int:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    total = 0
    try:
        for chunk in gen.chunks():
            for table in ORDER:
                rows = chunk[table]
                if not rows:
                    continue
                consts = CONSTANTS[table]
                fixed = tuple(consts.values())
                cols = COLUMNS[table].split(", ") + list(consts)
                await conn.copy_records_to_table(table, records=[r + fixed for r in rows], columns=cols)
            total += len(chunk["complaints"])
            print(f"  {total:,} complaints", end="\r", flush=True)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return total


async def time_reports(store: Store, config, runs: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) seconds per run. CPU: this process's, plus on PostgreSQL the server processes' of the
    bench database (the report is one serial query at a time): what a run costs on an idle machine (this
    one is shared with other work: see the load average printed)."""
    as_of = datetime(YEAR + 1, 1, 5, 10, tzinfo=UTC)
    cases = [("report (year)", date(YEAR, 1, 1), date(YEAR, 12, 31), {}),
             ("dashboard (year, trend)", date(YEAR, 1, 1), date(YEAR, 12, 31), {"with_trend": True}),
             ("dashboard (30 days, trend)", date(YEAR, 12, 2), date(YEAR, 12, 31), {"with_trend": True}),
             ("report (year, one agency)", date(YEAR, 1, 1), date(YEAR, 12, 31), {"agency": "pupr"}),
             ("report (one month)", date(YEAR, 3, 1), date(YEAR, 3, 31), {})]
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name, *_ in cases}
    for _ in range(runs):
        for name, first, last, kwargs in cases:
            started, cpu, server = time.perf_counter(), time.process_time(), await server_cpu(store)
            await build_report(store, config, first, last, as_of=as_of, **kwargs)
            spent = time.process_time() - cpu + (await server_cpu(store) - server)
            timings[name].append((time.perf_counter() - started, spent))
    await time_pages(store, config, runs, timings)
    return timings


async def time_pages(store: Store, config, runs: int, timings: dict[str, list[tuple[float, float]]]) -> None:
    """The dashboard's pages over HTTP (aiohttp, the coordinator's bearer token), uncached each run: the
    main page as a leader opens it (the last 30 days of the data) and a whole year."""
    from aiohttp import ClientSession, web
    from aiohttp.test_utils import TestServer

    from omnichannel.web import dashboard

    pages = {"dashboard page (HTTP, main)": f"/dasbor?dari={YEAR}-12-02&sampai={YEAR}-12-31",
             "dashboard page (HTTP, year)": f"/dasbor?dari={YEAR}-01-01&sampai={YEAR}-12-31"}
    app = web.Application()
    app.router.add_routes(dashboard.routes(store, config))
    board = app.router.routes().__iter__().__next__().handler.__self__  # the Dashboard behind /dasbor
    async with TestServer(app) as server, ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        for _ in range(runs):
            for name, path in pages.items():
                board._cache.clear()
                started, cpu, served = time.perf_counter(), time.process_time(), await server_cpu(store)
                async with http.get(str(server.make_url(path))) as resp:
                    page = await resp.text()
                    assert resp.status == 200 and "grafik-tren" in page, (resp.status, page[:300])
                spent = time.process_time() - cpu + (await server_cpu(store) - served)
                timings.setdefault(name, []).append((time.perf_counter() - started, spent))


async def server_cpu(store: Store) -> float:
    """PostgreSQL: CPU seconds used so far by this database's server processes (read from /proc: the
    server runs on this machine); SQLite: 0 (its work is this process's)."""
    if store.dialect != "postgresql":
        return 0.0
    async with store.engine.connect() as conn:
        pids = [r[0] for r in (await conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", help="SQLite: build (or reuse) the store in this directory; "
                                       "PostgreSQL: build (or reuse) this database, not dropped after")
    args = parser.parse_args()
    config = parse_config(CONFIG, env={"BENCH_COORDINATOR": TOKEN})
    calendar = WorkingCalendar(config.sla if isinstance(config.sla, SlaConfig) else SlaConfig())
    gen = Generator(args.complaints, calendar)
    pg_name = None
    if args.postgres:
        import asyncpg

        pg_name = args.keep or f"omni_bench_report_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", pg_name):
            await admin.execute(f'CREATE DATABASE "{pg_name}"')
        await admin.close()
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{pg_name}"
    else:
        directory = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="omni-bench-report-"))
        directory.mkdir(parents=True, exist_ok=True)
        url = f"sqlite+aiosqlite:///{directory}/store.db"
    store = Store(url)
    try:
        await store.open(migrate=True)
        async with store.engine.connect() as conn:
            fresh = (await conn.exec_driver_sql("SELECT count(*) FROM complaints")).scalar() == 0
        started = time.perf_counter()
        if fresh:
            if args.postgres:
                n = await fill_postgres(url, gen)
            else:
                n = await asyncio.to_thread(fill_sqlite, url.split("///", 1)[1], gen)
            print(f"filled {n:,} complaints in {time.perf_counter() - started:.0f} s{' ' * 20}")
        async with store.engine.connect() as conn:
            unstamped = (await conn.exec_driver_sql("SELECT count(*) FROM tickets WHERE wd_calendar IS NULL")).scalar()
        started = time.perf_counter()
        report = await build_report(store, config, date(YEAR, 1, 1), date(YEAR, 12, 31),
                                    as_of=datetime(YEAR + 1, 1, 5, 10, tzinfo=UTC))
        print(f"first report: {time.perf_counter() - started:.1f} s wall (it stamped {unstamped:,} tickets with "
              "working-day numbers: once after the fill or the migration, then only new or changed tickets)")
        t = report["total"]
        print(f"store: {store.dialect}; a year's report covers {t['complaints']['received']:,} complaints, "
              f"{t['received']:,} tickets ({t['completed']:,} completed, {t['overdue']:,} overdue), "
              f"{t['information']['requests']:,} information requests, {t['keberatan']['filed']:,} keberatan")
        timings = await time_reports(store, config, args.runs)
        print(f"load average before timing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for name, values in timings.items():
            wall = [w for w, _ in values]
            cpu = [c for _, c in values]
            print(f"{name:<28} wall median {statistics.median(wall):6.2f} s (min {min(wall):5.2f}, max "
                  f"{max(wall):5.2f})   CPU median {statistics.median(cpu):5.2f} s   ({len(values)} runs)")
        print(f"load average after timing: {os.getloadavg()[0]:.1f}")
    finally:
        await store.close()
        if pg_name and not args.keep:
            import asyncpg

            admin = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
            await admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
