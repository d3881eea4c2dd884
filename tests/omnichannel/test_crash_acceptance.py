"""Acceptance: a burst of intake posts, SIGKILL in the middle, restart — every 201 stored exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from omnichannel.models import Complaint, EnvelopeRow
from omnichannel.store import Store
from tests.conftest import create_pg_database, drop_pg_database, free_port
from tests.ready import wait_ready

pytestmark = pytest.mark.slow
TOTAL = 1000
CLIENTS = 50


def start_daemon(config: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "omnichannel.cli", "-c", str(config), "run"],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env, cwd=config.parent)


async def post_all(base: str, keys: list[str], stop_after: int | None, proc: subprocess.Popen | None) -> dict[str, str]:
    """Post one complaint per key from CLIENTS concurrent clients; SIGKILL the daemon after ``stop_after`` 201s."""
    acked: dict[str, str] = {}
    queue: asyncio.Queue[str] = asyncio.Queue()
    for key in keys:
        queue.put_nowait(key)

    async def client(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            key = queue.get_nowait()
            try:
                async with http.post(f"{base}/api/v1/complaints", headers={"Idempotency-Key": key},
                                     json={"text": f"Jalan berlubang di RT {key[-3:]} sudah lama tidak diperbaiki",
                                           "phone": "081234567890"}) as resp:
                    if resp.status in (200, 201):
                        acked[key] = (await resp.json())["complaint"]
            except (TimeoutError, aiohttp.ClientError):
                continue
            if stop_after is not None and proc is not None and len(acked) >= stop_after and proc.poll() is None:
                proc.send_signal(signal.SIGKILL)

    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=CLIENTS)) as http:
        await asyncio.gather(*(client(http) for _ in range(CLIENTS)))
    return acked


async def check_store(url: str, acked: dict[str, str]) -> tuple[int, int]:
    store = Store(url)
    try:
        async with store.session() as s:
            refs = list(acked.values())
            found = {}
            for i in range(0, len(refs), 500):
                q = select(Complaint.ref, func.count()).where(Complaint.ref.in_(refs[i:i + 500])).group_by(Complaint.ref)
                found.update(dict((await s.exec(q)).all()))
            envelopes = (await s.exec(select(func.count()).select_from(EnvelopeRow))).scalar_one()
            complaints = (await s.exec(select(func.count()).select_from(Complaint))).scalar_one()
    finally:
        await store.close()
    missing = [r for r in refs if found.get(r) != 1]
    assert not missing, f"{len(missing)} acknowledged complaints missing or doubled, e.g. {missing[:3]}"
    return envelopes, complaints


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_sigkill_mid_burst_loses_no_acknowledged_complaint(tmp_path, backend):
    url = f"sqlite+aiosqlite:///{tmp_path}/data/omnichannel.db"
    if backend == "postgresql":
        url = await create_pg_database()
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(f"""
data_dir: {tmp_path}/data
store: {{url: "{url}"}}
http: {{host: 127.0.0.1, port: {port}, rate_limits: {{enabled: false}}}}  # a load test
logging: {{level: WARNING}}
connectors:
  - {{name: web, kind: webform, acknowledge: false}}
""")
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "daemon.log"
    keys = [f"burst-{i:05d}" for i in range(TOTAL)]
    proc = start_daemon(config, log)
    try:
        await wait_ready(base, proc, log=log)
        acked = await post_all(base, keys, stop_after=TOTAL // 3, proc=proc)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, "the daemon should have been killed mid-burst"
        assert TOTAL // 3 <= len(acked) < TOTAL
        envelopes, _ = await check_store(url, acked)
        assert envelopes >= len(acked)
        # restart: ready again; citizens retry with the same keys and get the same refs
        proc = start_daemon(config, log)
        ready = await wait_ready(base, proc, log=log)
        assert ready["ready"] is True and ready["store"] == "ok"
        again = await post_all(base, keys, stop_after=None, proc=None)
        for _ in range(3):  # a citizen whose post timed out on a loaded machine posts again, same key
            missing = [k for k in keys if k not in again]
            if not missing:
                break
            again.update(await post_all(base, missing, stop_after=None, proc=None))
        assert len(again) == TOTAL
        assert all(again[k] == ref for k, ref in acked.items()), "a retried post got a different ref"
        envelopes, complaints = await check_store(url, again)
        assert envelopes == TOTAL and complaints == TOTAL
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if backend == "postgresql":
            await drop_pg_database(url)
