"""The daemon stops within its deadline after SIGTERM even when a mail worker process was SIGKILLed in
the middle of a batch (a dead worker and a cancelled batch racing in the process pool must not leave
a thread that keeps the process from exiting)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.connectors.email import dovecot
from tests.connectors.email.test_connector import OWN, complaint

pytestmark = pytest.mark.slow
dovecot_server = dovecot.dovecot_server  # pytest fixtures
mailbox = dovecot.mailbox
DEADLINE = 8


def pool_workers(pid: int) -> list[int]:
    """The daemon's process-pool workers (spawned children; not multiprocessing's resource tracker)."""
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            kids = [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            try:
                cmdline = Path(f"/proc/{kid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
                out.append(kid)
    return out


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigterm_after_a_worker_was_killed_mid_batch_exits_within_the_deadline(mailbox, tmp_path):
    mailbox.append([complaint(i) for i in range(6000)])
    config = tmp_path / "config.yaml"
    config.write_text(f"""
data_dir: {tmp_path}/data
http: {{host: 127.0.0.1, port: {free_port()}}}
logging: {{level: INFO}}
daemon: {{route: false, shutdown_deadline: {DEADLINE}}}
connectors:
  - name: email
    kind: imap
    host: {mailbox.host}
    port: {mailbox.port}
    security: none
    username: {mailbox.user}
    password: ${{TEST_IMAP_PASSWORD}}
    own_addresses: [{OWN}]
    idle: false
    poll_interval: 1
    batch_size: 1000
    parse_workers: 1
""")
    log = tmp_path / "daemon.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1", "TEST_IMAP_PASSWORD": mailbox.password}
    proc = subprocess.Popen([sys.executable, "-m", "omnichannel.cli", "-c", str(config), "run"],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    try:
        wait_for(lambda: "email connected" in log.read_text(), 60, "the connector's login")
        workers = wait_for(lambda: pool_workers(proc.pid), 30, "the mail worker processes")
        time.sleep(0.3)  # a batch is being fetched and parsed by the workers
        for pid in workers:
            os.kill(pid, signal.SIGKILL)  # as the OOM killer would
        time.sleep(0.05)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=DEADLINE + 15)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert code == 0, text[-4000:]
    assert took < DEADLINE + 5, f"took {took:.1f} s to stop\n{text[-4000:]}"
    assert "Exception in thread" not in text and "InvalidStateError" not in text, text[-4000:]
    assert "fetch workers failed" in text, "the workers were not killed mid-batch: the test proved nothing"
