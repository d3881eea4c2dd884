"""Fetch workers against a real Dovecot: the same batches as the connector reads itself,
and a worker that fails or dies costs a second read, never a lost or doubled mail."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal

from omnichannel.ingest import ingest_batch
from tests.connectors.email import dovecot
from tests.connectors.email.test_connector import (
    NAME,
    complaint,
    drain,
    outcomes,
    server_search,
    started,
    stored,
)

dovecot_server = dovecot.dovecot_server  # pytest fixtures
mailbox = dovecot.mailbox


def comparable(env) -> dict:
    values = dataclasses.asdict(env)
    values["attachments"] = [{**a, "path": None} for a in values["attachments"]]
    return values


async def test_workers_give_the_envelopes_the_connector_makes_itself(mailbox, store, tmp_path):
    mailbox.append([complaint(i) for i in range(120)])
    here = await started(mailbox, store, tmp_path, batch_size=120, prefetch=False)
    pooled = await started(mailbox, store, tmp_path, batch_size=120, prefetch=False, parse_workers=2)
    try:
        expected, got = await here.poll(), await pooled.poll()
    finally:
        await here.stop()
        await pooled.stop()
    assert [comparable(e) for e in got.envelopes] == [comparable(e) for e in expected.envelopes]
    assert got.checkpoint == expected.checkpoint and got.ack_token == expected.ack_token


async def test_killed_workers_cost_a_second_read_only(mailbox, store, tmp_path):
    total = 3000
    mailbox.append([complaint(i) for i in range(total)])
    connector = await started(mailbox, store, tmp_path, batch_size=500, parse_workers=1)
    try:
        batch = await connector.poll()                       # the worker is up and the next batch is being read
        pids = list(connector._workers._pool._processes)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)                     # as the OOM killer would
        await connector.ack(batch, await ingest_batch(store, NAME, "email", batch))
        assert await drain(connector, store) == total - len(batch.envelopes)
        await asyncio.sleep(0)
    finally:
        await connector.stop()
    assert await stored(store) == (total, total)
    assert await outcomes(store) == {"complaint": total}
    assert server_search(mailbox, "INBOX", ["UNSEEN"]) == []


async def test_workers_that_cannot_log_in_leave_the_reading_to_the_connector(mailbox, store, tmp_path):
    mailbox.append([complaint(i) for i in range(40)])
    connector = await started(mailbox, store, tmp_path, batch_size=15, parse_workers=1)
    try:
        connector._workers.config = connector._workers.config.model_copy(update={"port": 1})  # nobody listens
        connector._workers._discard()                       # the next batch starts workers with that config
        assert await drain(connector, store) == 40
    finally:
        await connector.stop()
    assert await stored(store) == (40, 40)
    assert server_search(mailbox, "INBOX", ["UNSEEN"]) == []
