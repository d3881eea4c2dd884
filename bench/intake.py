"""Intake benchmark: 201s per second and latency with 50 concurrent clients; ingest vs raw SQLite.

Run: .venv/bin/python bench/intake.py [--requests 5000] [--clients 50] [--intake-only] [--workers N] [--postgres]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omnichannel.ingest import ingest_batch, raw_bytes  # noqa: E402
from omnichannel.store import Store  # noqa: E402
from omnichannel.types import Batch, Envelope, Sender  # noqa: E402
from tests.ready import wait_ready  # noqa: E402

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  local body = '{"text": "Lampu PJU mati di Jalan Merdeka nomor ' .. counter .. ', sudah 3 hari gelap", ' ..
               '"phone": "' .. string.format("0813%08d", counter % 20000) .. '", "name": "Warga"}'
  return wrk.format(nil, "/api/v1/complaints", nil, body)
end
"""


def _has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_pg_database() -> str:
    """A fresh, empty PostgreSQL database for one run (trust auth on the local service)."""
    name = f"omni_bench_{os.urandom(4).hex()}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def drop_pg_database(url: str) -> None:
    await _pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def http_load(base: str, requests: int, clients: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))

    async def client(http: aiohttp.ClientSession) -> None:
        nonlocal errors
        for i in counter:
            started = time.perf_counter()
            async with http.post(f"{base}/api/v1/complaints",
                                 json={"text": f"Lampu PJU mati di Jalan Merdeka nomor {i}, sudah 3 hari gelap",
                                       "phone": f"0812{i % 20000:08d}", "name": "Warga"}) as resp:
                await resp.read()
                if resp.status == 201:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1

    conn = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=conn) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, errors


async def router_catch_up(base: str) -> None:
    """After the load: the router's backlog and how long it takes to route it (it yields during bursts)."""
    async def backlog(http: aiohttp.ClientSession) -> float:
        async with http.get(f"{base}/metrics") as resp:
            text = await resp.text()
        return float(re.search(r"^omnichannel_router_backlog (\S+)", text, re.M).group(1))

    async with aiohttp.ClientSession() as http:
        started, first = time.perf_counter(), await backlog(http)
        left = first
        while left > 0 and time.perf_counter() - started < 300:
            await asyncio.sleep(0.2)
            left = await backlog(http)
        took = time.perf_counter() - started
    print(f"router backlog when the load stopped: {first:,.0f} complaints; routed in {took:.1f} s after it "
          f"({first / took if took > 0 else 0:,.0f}/s){'' if left == 0 else f', {left:,.0f} still waiting'}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def postgres_commits(url: str) -> int:
    """Transactions committed in ``url``'s database so far (the server's statistics, flushed lazily)."""
    import asyncpg

    conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres")
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        return await conn.fetchval("SELECT xact_commit FROM pg_stat_database WHERE datname = $1",
                                   url.rsplit("/", 1)[1])
    finally:
        await conn.close()


async def postgres_backends(url: str) -> list[int]:
    """Process ids of the PostgreSQL backends connected to ``url``'s database (the daemon's pool)."""
    import asyncpg

    conn = await asyncpg.connect(host="127.0.0.1", port=5432, user="postgres", database="postgres")
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", url.rsplit("/", 1)[1])
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


async def ingest_vs_raw(rows: int, batch: int, workdir: Path) -> None:
    store = Store(f"sqlite+aiosqlite:///{workdir}/ingest.db")
    await store.open(migrate=True)
    envelopes = [Envelope(external_id=f"e{i}", raw=f'{{"text": "aduan {i}"}}', text=f"aduan jalan rusak {i}",
                          sender=Sender(id=f"s{i % 1000}")) for i in range(rows)]
    started = time.perf_counter()
    for i in range(0, rows, batch):
        await ingest_batch(store, "bench", "webform", Batch(envelopes[i:i + batch]))
    ingest_rate = rows / (time.perf_counter() - started)
    await store.close()
    raw = sqlite3.connect(workdir / "raw.db")
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    raw.execute("CREATE TABLE envelopes (id INTEGER PRIMARY KEY, connector TEXT, external_id TEXT, raw BLOB, "
                "text TEXT, sender_id TEXT, UNIQUE(connector, external_id))")
    params = [("bench", e.external_id, raw_bytes(e.raw), e.text, e.sender.id) for e in envelopes]
    started = time.perf_counter()
    for i in range(0, rows, batch):
        raw.executemany("INSERT INTO envelopes (connector, external_id, raw, text, sender_id) VALUES (?,?,?,?,?)",
                        params[i:i + batch])
        raw.commit()
    raw_rate = rows / (time.perf_counter() - started)
    raw.close()
    print(f"ingest path     : {ingest_rate:,.0f} envelopes/s (batches of {batch}: envelope + reporter/identity "
          f"+ complaint rows, one transaction per batch)")
    print(f"raw executemany : {raw_rate:,.0f} rows/s (one table, same batches)")
    print(f"ratio           : {ingest_rate / raw_rate:.2f} of raw")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--intake-only", action="store_true", help="daemon.route: false (measure intake alone)")
    parser.add_argument("--workers", type=int, default=0, help="http.workers (0: the daemon answers HTTP itself)")
    parser.add_argument("--postgres", action="store_true",
                        help="store in a fresh PostgreSQL database on 127.0.0.1:5432 (dropped after) instead of SQLite")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="omni-bench-"))
    store_url = await create_pg_database() if args.postgres else None
    port = free_port()
    config = work / "config.yaml"
    config.write_text(f"data_dir: {work}/data\nhttp: {{host: 127.0.0.1, port: {port}, workers: {args.workers}, "
                      f"rate_limits: {{enabled: false}}}}\nlogging: {{level: WARNING}}\n"
                      f"daemon: {{route: {str(not args.intake_only).lower()}}}\n"
                      + (f"store: {{url: '{store_url}'}}\n" if store_url else "")
                      + "connectors:\n  - {name: web, kind: webform, acknowledge: false}\n")
    print(f"daemon: web intake {'only (daemon.route: false)' if args.intake_only else 'with the router and dispatcher running'}"
          f", http.workers {args.workers}, store {'PostgreSQL' if store_url else 'SQLite'}, {'uvloop' if _has_uvloop() else 'asyncio'} event loop; every post a "
          "different phone number (new reporters as well as known ones)")
    proc = subprocess.Popen([sys.executable, "-m", "omnichannel.cli", "-c", str(config), "run"], cwd=work,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "OMNICHANNEL_RATE_LIMITS": "false"})
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, proc)
        await http_load(base, 500, args.clients)  # warm-up
        elapsed, lat, errors = await http_load(base, args.requests, args.clients)
        print(f"intake (Python aiohttp clients): {len(lat)} x 201 in {elapsed:.2f}s = {len(lat) / elapsed:,.0f} "
              f"complaints/s with {args.clients} clients ({errors} errors); latency p50 "
              f"{statistics.median(lat) * 1000:.1f} ms, p99 {pct(lat, 0.99):.1f} ms, max {max(lat) * 1000:.1f} ms")
        if shutil.which("wrk"):
            script = work / "post.lua"
            script.write_text(WRK_SCRIPT)
            backends = await postgres_backends(store_url) if store_url else []
            cpu_before, pg_before = cpu_seconds(proc.pid), sum(map(cpu_seconds, backends))
            commits_before = await postgres_commits(store_url) if store_url else 0
            out = subprocess.run(["wrk", "-t1", f"-c{args.clients}", "-d8s", "--latency", "-s", str(script), base],
                                 capture_output=True, text=True, timeout=60).stdout
            rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
            p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
            p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            print(f"intake (wrk, C load generator): {float(rps.group(1)):,.0f} complaints/s with {args.clients} "
                  f"connections for 8 s; latency p50 {p50.group(1)}, p99 {p99.group(1)}; "
                  f"non-201: {non2xx.group(1) if non2xx else 0}")
            done = float(rps.group(1)) * 8
            daemon_us = (cpu_seconds(proc.pid) - cpu_before) / done * 1e6
            line = f"CPU per complaint during the wrk run: daemon {daemon_us:,.0f} µs"
            if store_url:
                line += f", PostgreSQL backends {(sum(map(cpu_seconds, backends)) - pg_before) / done * 1e6:,.0f} µs"
                await asyncio.sleep(1)  # the server's statistics are flushed at most once a second
                commits = await postgres_commits(store_url) - commits_before
                line += f" ({commits:,} transactions, {done / max(1, commits):.1f} complaints each)"
            print(line + f" (a core given to the daemon alone would take {1e6 / daemon_us:,.0f} complaints/s; "
                  f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        else:
            print("wrk not installed (apt-get install wrk): skipped the C load generator run")
        if not args.intake_only:
            await router_catch_up(base)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        if store_url:
            await drop_pg_database(store_url)
    await ingest_vs_raw(args.rows, 500, work)


if __name__ == "__main__":
    asyncio.run(main())
