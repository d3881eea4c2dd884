"""http.workers: worker processes answer on the port; the store, metrics and router see one daemon."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from omnichannel.models import Complaint
from omnichannel.store import Store
from tests.conftest import create_pg_database, drop_pg_database, free_port, pg_available
from tests.omnichannel.test_crash_acceptance import check_store, post_all, start_daemon
from tests.ready import wait_ready

pytestmark = pytest.mark.slow
TOTAL = 600


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def wait_for(predicate, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def metric(base: str, name: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics") as resp:
        text = await resp.text()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


async def metric_plain(base: str, name: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics") as resp:
        text = await resp.text()
    return next(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + " "))


def write_config(tmp_path: Path, url: str, port: int) -> Path:
    config = tmp_path / "config.yaml"
    # router_interval is long: the router runs when woken by a commit (its own or a worker's message)
    config.write_text(f"""
data_dir: {tmp_path}/data
store: {{url: "{url}"}}
http: {{host: 127.0.0.1, port: {port}, workers: 2, rate_limits: {{enabled: false}}}}  # a load test
logging: {{level: WARNING}}
daemon: {{router_interval: 600, shutdown_deadline: 10}}
connectors:
  - {{name: web, kind: webform, acknowledge: false}}
""")
    return config


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_two_processes_share_the_port_and_account_for_everything(tmp_path, backend):
    url = f"sqlite+aiosqlite:///{tmp_path}/data/omnichannel.db"
    if backend == "postgresql":
        if not pg_available():
            pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
        url = await create_pg_database()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_daemon(write_config(tmp_path, url, port), tmp_path / "daemon.log")
    worker_pid = None
    try:
        ready = await wait_ready(base, proc)
        workers = ready["http_workers"]
        assert sorted(workers) == ["1", "2"] and {w["state"] for w in workers.values()} == {"running"}
        worker_pid = workers["1"]["pid"]
        assert worker_pid != proc.pid and alive(worker_pid) and alive(workers["2"]["pid"])

        keys = [f"w-{i:05d}" for i in range(TOTAL)]
        acked = await post_all(base, keys, stop_after=None, proc=None)
        assert len(acked) == TOTAL
        envelopes, complaints = await check_store(url, acked)
        assert envelopes == complaints == TOTAL
        # whichever process answers /metrics, it reports the whole daemon (the worker passes it on)
        for _ in range(6):
            assert await metric(base, "omnichannel_complaints_total") == TOTAL

        store = Store(url)
        try:
            async def all_routed() -> bool:
                async with store.session() as s:
                    q = select(func.count()).select_from(Complaint).where(Complaint.status == "received")
                    return (await s.exec(q)).scalar_one() == 0
            await wait_for(all_routed, 60, "the router to take every complaint")
            assert await metric_plain(base, "omnichannel_router_backlog") == 0
        finally:
            await store.close()

        # a worker that dies is started again; the intake goes on meanwhile
        os.kill(worker_pid, signal.SIGKILL)

        async def restarted() -> bool:
            async with aiohttp.ClientSession() as http, http.get(f"{base}/readyz") as resp:
                body = await resp.json()
            w = body.get("http_workers", {}).get("1", {})
            return w.get("restarts") == 1 and w.get("state") == "running"
        await wait_for(restarted, 60, "the worker's restart")
        again = await post_all(base, [f"x-{i}" for i in range(100)], stop_after=None, proc=None)
        assert len(again) == 100
        async with aiohttp.ClientSession() as http, http.get(f"{base}/readyz") as resp:
            pids = [w["pid"] for w in (await resp.json())["http_workers"].values()]

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not any(alive(pid) for pid in pids), "SIGTERM to the daemon stops its workers too"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if backend == "postgresql":
            await drop_pg_database(url)


async def test_a_worker_stops_when_the_primary_is_killed(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_daemon(write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/data/omnichannel.db", port),
                        tmp_path / "daemon.log")
    try:
        ready = await wait_ready(base, proc)
        worker_pid = ready["http_workers"]["1"]["pid"]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

        async def gone() -> bool:
            return not alive(worker_pid)
        await wait_for(gone, 30, "the orphaned worker to stop")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_a_worker_that_keeps_dying_young_is_restarted_with_backoff():
    """The watch loop's policy, with processes that are dead as soon as they are spawned."""
    from types import SimpleNamespace

    from omnichannel.web.workers import WorkerHandle, WorkerPool

    class Dead:
        pid, exitcode = 4242, 1

        def is_alive(self) -> bool:
            return False

    pool = WorkerPool(daemon=SimpleNamespace(), internal_url="http://127.0.0.1:1", port=1,
                      watch_interval=0.001, young=3600, backoff=0.02, max_backoff=0.08)
    delays: list[float] = []
    loop = asyncio.get_running_loop()

    def spawn(index: int) -> None:  # what _spawn records, without a process
        old = pool.handles.get(index)
        if old is not None:
            delays.append(old.delay)
        pool.handles[index] = WorkerHandle(index, Dead(), None, restarts=old.restarts + 1 if old else 0,
                                           started=loop.time(), delay=old.delay if old else 0.0)

    pool._spawn = spawn
    pool._close_pipe = lambda handle: None
    spawn(1)
    watch = asyncio.create_task(pool._watch_loop())
    try:
        await wait_for(lambda: asyncio.sleep(0, len(delays) >= 5), 30, "five restarts")
    finally:
        pool._stopping = True
        await watch
    assert delays[:5] == [0.02, 0.04, 0.08, 0.08, 0.08]  # doubling, capped
    assert pool.health()["1"]["restart_delay"] == 0.08

    pool.young = 0.0  # a worker that lived long is started again at once
    pool._stopping = False
    delays.clear()
    pool.handles[1].state = "running"
    watch = asyncio.create_task(pool._watch_loop())
    try:
        await wait_for(lambda: asyncio.sleep(0, len(delays) >= 1), 30, "a restart")
    finally:
        pool._stopping = True
        await watch
    assert delays[0] == 0.0
