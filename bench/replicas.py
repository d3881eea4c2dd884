"""Replicas benchmark: N daemon processes on one fresh PostgreSQL database take web intake at once
(one wrk per replica, the connections split between them); then the router's leader drains the backlog.

Run: .venv/bin/python bench/replicas.py [--replicas 1 2 3] [--clients 48] [--seconds 8]
Prints figures; asserts nothing. Rate limits are off (OMNICHANNEL_RATE_LIMITS=false) as in every bench.
On one machine the replicas share its cores (and PostgreSQL's): the figure per replica is what a
machine per replica would give only when the bound below is the replica's own CPU, which it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake import WRK_SCRIPT, create_pg_database, drop_pg_database, free_port  # noqa: E402

from tests.ready import wait_ready  # noqa: E402


def start(work: Path, url: str, name: str, port: int) -> subprocess.Popen:
    config = work / f"{name}.yaml"
    config.write_text(f"data_dir: {work}/data-{name}\nstore: {{url: '{url}'}}\n"
                      f"http: {{host: 127.0.0.1, port: {port}, "
                      f"rate_limits: {{enabled: false}}}}\nlogging: {{level: WARNING}}\n"
                      f"daemon: {{replica_id: {name}, lease_ttl: 5}}\n"
                      "connectors:\n  - {name: web, kind: webform, acknowledge: false}\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMNICHANNEL_RATE_LIMITS": "false"}
    return subprocess.Popen([sys.executable, "-m", "omnichannel.cli", "-c", str(config), "run"], cwd=work, env=env)


async def metric(http: aiohttp.ClientSession, base: str, name: str) -> float:
    async with http.get(f"{base}/metrics") as resp:
        text = await resp.text()
    found = re.search(rf"^{name} (\S+)", text, re.M)
    return float(found.group(1)) if found else 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(count: int, clients: int, seconds: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="omni-replicas-"))
    url = await create_pg_database()
    names = [f"r{i + 1}" for i in range(count)]
    ports = [free_port() for _ in names]
    procs = []
    try:
        for name, port in zip(names, ports, strict=True):  # one after another: the first migrates
            procs.append(start(work, url, name, port))
            await wait_ready(f"http://127.0.0.1:{port}", procs[-1])
        script = work / "post.lua"
        script.write_text(WRK_SCRIPT)
        cpu_before = [cpu_seconds(p.pid) for p in procs]
        per = max(1, clients // count)
        loads = [subprocess.Popen(["wrk", "-t1", f"-c{per}", f"-d{seconds}s", "--latency", "-s", str(script),
                                   f"http://127.0.0.1:{port}"], stdout=subprocess.PIPE, text=True)
                 for port in ports]
        outs = [p.communicate(timeout=seconds + 60)[0] for p in loads]
        cpu = [cpu_seconds(p.pid) - b for p, b in zip(procs, cpu_before, strict=True)]
        rates = [float(re.search(r"Requests/sec:\s+([\d.]+)", o).group(1)) for o in outs]
        p99s = [re.search(r"^\s+99%\s+(\S+)", o, re.M).group(1) for o in outs]
        non2xx = sum(int(m.group(1)) for o in outs if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", o)))
        total = sum(rates)
        print(f"{count} replica(s): {total:,.0f} complaints/s in all ({', '.join(f'{r:,.0f}' for r in rates)} per "
              f"replica; p99 {', '.join(p99s)}; non-201 {non2xx}); replica CPU {sum(cpu) / seconds:.2f} cores "
              f"({', '.join(f'{c / seconds:.2f}' for c in cpu)}), i.e. {sum(cpu) / max(1, total * seconds) * 1e6:,.0f} "
              f"us of replica CPU a complaint")
        base = f"http://127.0.0.1:{ports[0]}"
        async with aiohttp.ClientSession() as http:
            first = left = await metric(http, base, "omnichannel_router_backlog")
            started = time.perf_counter()
            while left > 0 and time.perf_counter() - started < 600:
                await asyncio.sleep(0.5)
                left = await metric(http, base, "omnichannel_router_backlog")
            took = time.perf_counter() - started
        print(f"  router (one leader): {first:,.0f} left after the load, routed in {took:.1f} s "
              f"({first / took if took else 0:,.0f}/s)")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        await drop_pg_database(url)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--clients", type=int, default=48)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores on this machine, shared by the replicas, PostgreSQL and wrk")
    for count in args.replicas:
        await run(count, args.clients, args.seconds)


if __name__ == "__main__":
    asyncio.run(main())
