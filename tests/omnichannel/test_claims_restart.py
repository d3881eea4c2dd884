"""A SIGKILLed daemon's claims are released by the process that replaces it, not after they expire."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from omnichannel.models import OutboxRow
from omnichannel.outbox import enqueue
from omnichannel.store import Store
from omnichannel.types import utcnow
from tests.conftest import free_port
from tests.ready import wait_ready
from tests.router.delivery.forwarders.webhook_sink import WebhookSink

pytestmark = pytest.mark.slow


def start(config: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "omnichannel.cli", "-c", str(config), "run"],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=config.parent)


async def test_claims_of_a_killed_daemon_are_released_when_its_replacement_starts(tmp_path):
    sink = await WebhookSink().start()
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {tmp_path}/data\nhttp: {{host: 127.0.0.1, port: {port}}}\n"
                      "daemon: {shutdown_deadline: 5}\n"
                      "connectors:\n  - {name: web, kind: webform}\n"
                      f"forwarders:\n  - {{name: hook, kind: webhook, url: '{sink.url}', timeout: 5}}\n")
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "daemon.log"
    first = start(config, log)
    try:
        await wait_ready(base, first)
        name = re.search(r"daemon (\S+) started", log.read_text()).group(1)  # the first process's name
        store = Store(f"sqlite+aiosqlite:///{tmp_path}/data/omnichannel.db")
        await store.open(migrate=False)
        async with store.session() as s:
            await enqueue(s, "ticket", "TIK-2026-000001", "hook", {"ref": "TIK-2026-000001"})
            row = (await s.exec(select(OutboxRow))).scalars().one()
            # as the first process leaves it when it dies mid-send: claimed for an hour
            row.status, row.claimed_by, row.claimed_until = "in_flight", name, utcnow() + timedelta(hours=1)
            row.attempts = 1
            s.add(row)
            await s.commit()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = start(config, log)
        try:
            await wait_ready(base, second)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "TIK-2026-000001" not in str(sink.accepted):
                await asyncio.sleep(0.1)
            assert "TIK-2026-000001" in str(sink.accepted), log.read_text()[-3000:]
            assert log.read_text().count(f"daemon {name} started") == 2  # the successor took over the name
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(20)
        await store.close()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
        await sink.stop()
