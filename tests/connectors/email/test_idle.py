"""New mail is seen at once: IDLE stays open between polls (re-issued before the server's timeout), wakes the
daemon, and a stopping daemon leaves IDLE within a second or two. Real Dovecot; the daemon in a subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from connectors.email.connector import ImapConnector
from omnichannel.ingest import ingest_batch
from tests.conftest import free_port
from tests.connectors.email import dovecot
from tests.connectors.email.test_connector import NAME, OWN, complaint, context, make_config
from tests.connectors.email.test_shutdown import wait_for

dovecot_server = dovecot.dovecot_server  # pytest fixtures
mailbox = dovecot.mailbox


async def test_mail_arriving_between_polls_wakes_the_connector_at_once(mailbox, store, tmp_path):
    woken = threading.Event()
    ctx = context(store, tmp_path)
    ctx.extra["wake"] = woken.set
    connector = ImapConnector(NAME, make_config(mailbox, idle=True, idle_timeout=1))  # re-issued every second
    await connector.start(ctx, None)
    try:
        first = await connector.poll()                          # nothing yet: returns at once, no waiting
        await connector.ack(first, await ingest_batch(store, NAME, "email", first))
        await asyncio.to_thread(wait_for, lambda: all(w.idling.is_set() for w in connector._idle.watchers), 10,
                                "IDLE")
        woken.clear()
        await asyncio.sleep(2.5)                                # no poll running, IDLE renewed twice meanwhile
        assert not woken.is_set()
        appended = time.monotonic()
        await asyncio.to_thread(mailbox.append, [complaint(1)])
        assert await asyncio.to_thread(woken.wait, 10)
        took = time.monotonic() - appended
        batch = await connector.poll()
        assert [e.subject for e in batch.envelopes] == ["Aduan c 1"]
        await connector.ack(batch, await ingest_batch(store, NAME, "email", batch))
    finally:
        await asyncio.wait_for(connector.stop(), 15)
    assert took < 5, f"woken {took:.1f} s after the mail arrived"
    assert not any(t.name.startswith("imap-idle-") for t in threading.enumerate())   # DONE, LOGOUT, joined


def stored_count(db: str) -> int:
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM envelopes").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_the_daemon_stores_new_mail_within_two_seconds_and_stops_promptly_from_idle(mailbox, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(f"""
data_dir: {tmp_path}/data
store: {{url: "sqlite+aiosqlite:///{tmp_path}/store.db"}}
http: {{host: 127.0.0.1, port: {free_port()}}}
logging: {{level: INFO}}
daemon: {{route: false, shutdown_deadline: 20}}
connectors:
  - name: email
    kind: imap
    host: {mailbox.host}
    port: {mailbox.port}
    security: none
    username: {mailbox.user}
    password: ${{TEST_IMAP_PASSWORD}}
    own_addresses: [{OWN}]
    poll_interval: 60
""")
    log = tmp_path / "daemon.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TEST_IMAP_PASSWORD": mailbox.password}
    proc = subprocess.Popen([sys.executable, "-m", "omnichannel.cli", "-c", str(config), "run"],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    try:
        wait_for(lambda: "email connected" in log.read_text(), 60, "the connector's login")
        time.sleep(3)                                           # the first poll is over: waiting in IDLE
        appended = time.monotonic()
        mailbox.append([complaint(1)])
        wait_for(lambda: stored_count(f"{tmp_path}/store.db") == 1, 30, "the mail to be stored")
        took = time.monotonic() - appended
        time.sleep(1)
        stopping = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        stop_took = time.monotonic() - stopping
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert code == 0, text[-4000:]
    assert took < 2, f"stored {took:.1f} s after it arrived (poll_interval 60)\n{text[-3000:]}"
    assert stop_took < 3, f"took {stop_took:.1f} s to stop\n{text[-3000:]}"
    assert " ERROR " not in text and "Traceback" not in text, text[-4000:]
