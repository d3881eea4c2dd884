"""daemon.route_process: the router in a child process decides as the in-process router does."""

from __future__ import annotations

import asyncio
import os
import time

import aiohttp
from sqlalchemy import select

from omnichannel.daemon import Daemon
from omnichannel.models import Complaint
from tests.omnichannel.helpers import minimal_config

TEXTS = [  # (text, phone): two citizens, a resend, one incident told twice, a greeting
    ("Lampu jalan di Jl. Pemuda mati sudah seminggu, mohon diperbaiki", "0812-1111-2222"),
    ("Lampu jalan di Jl. Pemuda mati sudah seminggu, mohon diperbaiki", "0812-1111-2222"),
    ("Sampah menumpuk di TPS Pasar Johar dan bau sekali", "0813-3333-4444"),
    ("TPS Pasar Johar sampahnya menumpuk, baunya sampai ke jalan", "0814-5555-6666"),
    ("Selamat pagi admin", "0815-7777-8888"),
]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def route_all(tmp_path, route_process: bool, url: str | None = None) -> tuple[list[tuple], dict]:
    config = minimal_config(tmp_path, url=url)
    config.daemon.route_process = route_process
    config.daemon.router_interval = 600  # routed only when a commit wakes the router
    config.daemon.dispatch = False
    daemon = Daemon(config)
    await daemon.start()
    try:
        base = f"http://127.0.0.1:{daemon.http_port}"
        refs = []
        async with aiohttp.ClientSession() as http:
            for text, phone in TEXTS:
                async with http.post(f"{base}/api/v1/complaints", json={"text": text, "phone": phone}) as resp:
                    assert resp.status == 201, await resp.text()
                    refs.append((await resp.json())["complaint"])
            deadline = time.monotonic() + 60
            while True:
                async with daemon.store.session() as s:
                    rows = (await s.exec(select(Complaint).order_by(Complaint.id))).scalars().all()
                if len(rows) == len(TEXTS) and all(c.status != "received" for c in rows):
                    break
                assert time.monotonic() < deadline, [(c.ref, c.status) for c in rows]
                await asyncio.sleep(0.1)
            async with http.get(f"{base}/readyz") as resp:
                ready = await resp.json()
            async with http.get(f"{base}/metrics") as resp:
                ready["metrics"] = await resp.text()
        by_id = {c.id: c.ref for c in rows}
        cases = {}
        decided = [(c.ref, c.status, c.kind, c.agency, c.confidence, c.dedup_level, by_id.get(c.duplicate_of),
                    cases.setdefault(c.case_id, len(cases)) if c.case_id else None, c.explanation) for c in rows]
        ready["pid"] = daemon.router_process.process.pid if daemon.router_process else None
    finally:
        await asyncio.wait_for(daemon.stop(), 30)
    return decided, ready


async def test_a_router_process_routes_as_the_daemon_itself_would(tmp_path):
    inside, ready_inside = await route_all(tmp_path / "inside", route_process=False)
    apart, ready = await route_all(tmp_path / "apart", route_process=True)
    assert ready_inside["pid"] is None
    assert apart == inside
    assert [d[5] for d in apart].count("resend") == 1  # the inputs do exercise grouping
    assert ready["router"] == "running" and "@router" in ready["replica"]["leases"]
    assert ready["replica"]["router_process"]["state"] == "running"
    assert f"omnichannel_routed_total {float(len(TEXTS))}" in ready["metrics"]
    assert ready["pid"] != os.getpid() and not alive(ready["pid"])  # it stopped with the daemon


async def test_a_router_process_on_postgresql_routes_as_the_daemon_on_sqlite(tmp_path, pg_url):
    """The child process opens the store by its URL: on PostgreSQL it claims and writes as on SQLite."""
    inside, _ = await route_all(tmp_path / "inside", route_process=False)
    apart, ready = await route_all(tmp_path / "apart", route_process=True, url=pg_url)
    assert apart == inside
    assert ready["replica"]["router_process"]["state"] == "running"
    assert ready["pid"] != os.getpid() and not alive(ready["pid"])


async def test_a_router_process_that_dies_is_started_again_and_routes_on(tmp_path):
    import signal

    config = minimal_config(tmp_path)
    config.daemon.route_process = True
    config.daemon.dispatch = False
    daemon = Daemon(config)
    await daemon.start()
    try:
        daemon.router_process.watch_interval = 0.1
        first = daemon.router_process.process.pid
        deadline = time.monotonic() + 60
        while daemon.router_state != "running":
            assert time.monotonic() < deadline, daemon.router_state
            await asyncio.sleep(0.05)
        os.kill(first, signal.SIGKILL)
        base = f"http://127.0.0.1:{daemon.http_port}"
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/api/v1/complaints", json={"text": TEXTS[0][0], "phone": TEXTS[0][1]}) as resp:
                ref = (await resp.json())["complaint"]
        while True:  # stored while no router ran: routed by the new one
            async with daemon.store.session() as s:
                status = (await s.exec(select(Complaint.status).where(Complaint.ref == ref))).one()[0]
            if status != "received":
                break
            assert time.monotonic() < deadline, daemon.router_process.health()
            await asyncio.sleep(0.1)
        assert daemon.router_process.restarts == 1 and daemon.router_process.process.pid != first
        assert not alive(first)
    finally:
        await asyncio.wait_for(daemon.stop(), 30)
