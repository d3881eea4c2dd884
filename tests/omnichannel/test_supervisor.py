"""The supervisor: backoff, parking, recovery, isolation between connectors, leases."""

from __future__ import annotations

import asyncio
import logging
import random

from omnichannel.errors import AuthError, RetryableError
from omnichannel.ingest import ingest_batch
from omnichannel.supervisor import ConnectorRunner, acquire_lease, backoff_delay
from omnichannel.types import Batch, Envelope
from tests.contract.connector_contract import make_context


class ScriptedConnector:
    """A pull connector whose polls follow a script: an exception to raise or a number of envelopes."""

    kind = "scripted"

    def __init__(self, script):
        self.script = list(script)
        self.polls = 0
        self.starts = 0
        self.stops = 0
        self.counter = 0

    async def start(self, ctx, checkpoint):
        self.starts += 1
        self.counter = (checkpoint or {}).get("n", 0)

    async def poll(self):
        self.polls += 1
        step = self.script.pop(0) if self.script else 0
        if isinstance(step, BaseException):
            raise step
        if step == "hang":
            await asyncio.sleep(30)
        envs = []
        for _ in range(step):
            self.counter += 1
            envs.append(Envelope(external_id=str(self.counter), raw="{}", text=f"aduan {self.counter}"))
        return Batch(envs, checkpoint={"n": self.counter} if envs else None)

    async def ack(self, batch, result):
        pass

    async def stop(self):
        self.stops += 1

    async def probe(self):
        return "scripted"


def runner(store, tmp_path, connector, name="c1", owner="me", timeout=5.0):
    async def submit(batch):
        return await ingest_batch(store, name, "test", batch)
    return ConnectorRunner(connector, name, "scripted", make_context(store, tmp_path, "test"), store, submit,
                           poll_timeout=timeout, backoff_initial=0.01, backoff_max=0.05, owner=owner, lease_ttl=30)


async def tick_until(r, predicate, limit=200):
    for _ in range(limit):
        await r.tick()
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never reached")


def test_backoff_has_full_jitter_within_bounds():
    rng = random.Random(7)
    delays = [backoff_delay(n, 1.0, 60.0, rng) for n in range(1, 12) for _ in range(20)]
    assert all(0.5 <= d <= 60.0 for d in delays)
    assert max(backoff_delay(10, 1.0, 60.0, rng) for _ in range(50)) > 30  # grows to the cap
    assert len({round(d, 6) for d in delays}) > 100  # jittered, not fixed steps


async def test_failure_backs_off_then_recovers_logging_only_transitions(store, tmp_path, caplog):
    conn = ScriptedConnector([RetryableError("down"), RetryableError("down"), RetryableError("down"), 3])
    r = runner(store, tmp_path, conn)
    caplog.set_level(logging.DEBUG, logger="omnichannel.supervisor")
    await tick_until(r, lambda: r.health.state == "running")
    assert r.health.envelopes == 3 and conn.polls >= 4
    messages = [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.INFO]
    assert sum("failing" in m for m in messages) == 1
    assert sum("recovered" in m for m in messages) == 1
    assert conn.starts >= 2  # restarted from the stored checkpoint after failures


async def test_auth_failure_parks_without_hot_loop(store, tmp_path):
    conn = ScriptedConnector([AuthError("token revoked")] + [1] * 10)
    r = runner(store, tmp_path, conn)
    for _ in range(20):
        await r.tick()
    assert r.health.state == "parked" and conn.polls == 1
    assert "token revoked" in r.health.as_dict()["last_error"]


async def test_poll_timeout_counts_as_failure(store, tmp_path):
    conn = ScriptedConnector(["hang", 2])
    r = runner(store, tmp_path, conn, timeout=0.1)
    await r.tick()
    assert r.health.state == "failing" and "TimeoutError" in r.health.last_error
    await tick_until(r, lambda: r.health.state == "running")


async def test_one_failing_connector_does_not_stop_another(store, tmp_path):
    bad = ScriptedConnector([RuntimeError("boom")] * 50)
    good = ScriptedConnector([2] * 5)
    rb, rg = runner(store, tmp_path, bad, "bad"), runner(store, tmp_path, good, "good")
    for _ in range(5):
        await asyncio.gather(rb.tick(), rg.tick())
        await asyncio.sleep(0.02)
    assert rg.health.state == "running" and rg.health.envelopes == 10
    assert rb.health.state == "failing"


async def test_lease_lets_one_replica_poll(store, tmp_path):
    a = runner(store, tmp_path, ScriptedConnector([1] * 5), "shared", owner="replica-a")
    b_conn = ScriptedConnector([1] * 5)
    b = runner(store, tmp_path, b_conn, "shared", owner="replica-b")
    await a.tick()
    await b.tick()
    assert b_conn.polls == 0 and b.health.state == "standby"
    await a.stop()  # releases the lease at shutdown
    b._lease_checked = 0
    await b.tick()
    assert b_conn.polls >= 1 and b.health.state == "running"
    assert not await acquire_lease(store, "shared", "replica-a", 30)
