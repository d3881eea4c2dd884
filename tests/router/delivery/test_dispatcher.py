"""Dispatcher: backoff and jitter, max_in_flight, dead letters, expired claims, several dispatchers at once."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from omnichannel.config import Config, ForwarderConfig
from omnichannel.errors import PermanentDeliveryError, RetryableError
from omnichannel.metrics import Metrics
from omnichannel.models import DeadLetter, OutboxRow
from omnichannel.outbox import enqueue_many
from omnichannel.types import OutboxItem, Receipt, utcnow
from router.delivery import outbox as outbox_ops
from router.delivery.dispatcher import Dispatcher, backoff_delay


class Recorder:
    """A destination that records every send; ``fail`` decides per call; ``gate`` holds sends open."""

    def __init__(self, fail: Any = None) -> None:
        self.sent: list[str] = []
        self.items: list[OutboxItem] = []
        self.fail = fail
        self.gate: asyncio.Event | None = None
        self.current = 0
        self.peak = 0

    async def send(self, item: OutboxItem, key: str) -> Receipt:
        self.current += 1
        self.peak = max(self.peak, self.current)
        try:
            if self.gate is not None:
                await self.gate.wait()
            else:
                await asyncio.sleep(0)
            if self.fail is not None:
                self.fail(item)
            self.sent.append(key)
            self.items.append(item)
            return Receipt(remote_ref=f"R-{item.id}")
        finally:
            self.current -= 1

    reply = send


def config(*forwarders: ForwarderConfig) -> Config:
    return Config(forwarders=list(forwarders))


def fwd(name: str = "hook", **kw: Any) -> ForwarderConfig:
    return ForwarderConfig(name=name, kind="webhook", **kw)


async def add(store: Any, n: int, destination: str = "hook", item_type: str = "ticket", start: int = 1) -> None:
    async with store.session() as s:
        await enqueue_many(s, [(item_type, f"TIK-2026-{i:06d}", destination, {"ticket": f"TIK-2026-{i:06d}"})
                               for i in range(start, start + n)])
        await s.commit()


async def rows(store: Any) -> list[OutboxRow]:
    async with store.session() as s:
        return list((await s.exec(select(OutboxRow).order_by(OutboxRow.id))).scalars().all())


async def make_due(store: Any) -> None:
    async with store.session() as s:
        await s.exec(update(OutboxRow).where(OutboxRow.status == "pending")
                     .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        await s.commit()


async def wait_until(predicate: Any, limit: float = 20.0) -> None:
    for _ in range(int(limit / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


def test_backoff_is_full_jitter_within_the_exponential_ceiling() -> None:
    rng = random.Random(1)
    for attempt in range(1, 15):
        ceiling = min(60.0, 2.0 * 2 ** (attempt - 1))
        samples = [backoff_delay(attempt, 2.0, 60.0, rng) for _ in range(400)]
        assert all(0.0 <= s <= ceiling for s in samples)
        # full jitter spreads over the whole range, not just near the ceiling
        assert min(samples) < ceiling * 0.1 and max(samples) > ceiling * 0.9


def test_backoff_never_earlier_than_retry_after() -> None:
    rng = random.Random(2)
    assert all(backoff_delay(1, 2.0, 60.0, rng, retry_after=30.0) >= 30.0 for _ in range(200))
    assert backoff_delay(1, 2.0, 60.0, rng, retry_after=7200.0) == 7200.0  # honoured even beyond the cap


async def test_delivers_with_the_idempotency_key_and_remote_ref(store: Any) -> None:
    dest = Recorder()
    await add(store, 3)
    d = Dispatcher(store, config(fwd()), {"hook": dest}, owner="a")
    assert await d.run_once() == 3
    assert dest.sent == [f"ticket:TIK-2026-{i:06d}:hook" for i in (1, 2, 3)]
    assert [(r.status, r.remote_ref, r.attempts, r.claimed_by) for r in await rows(store)] == [
        ("done", f"R-{r.id}", 1, None) for r in await rows(store)]
    assert await d.run_once() == 0 and len(dest.sent) == 3
    assert d.delivered["hook"] == 3


async def test_replies_go_through_the_replier(store: Any) -> None:
    replier = Recorder()
    await add(store, 1, destination="reply:web", item_type="reply")
    d = Dispatcher(store, config(), {"reply:web": replier}, owner="a")
    assert await d.run_once() == 1
    assert replier.sent == ["reply:TIK-2026-000001:reply:web"]


async def test_max_in_flight_holds_across_dispatchers(any_store: Any) -> None:
    dest = Recorder()
    dest.gate = asyncio.Event()
    await add(any_store, 10)
    cfg = config(fwd(max_in_flight=3))
    a = Dispatcher(any_store, cfg, {"hook": dest}, owner="a")
    b = Dispatcher(any_store, cfg, {"hook": dest}, owner="b")
    task = asyncio.create_task(a.run_once())
    await wait_until(lambda: dest.current == 3)
    assert await b.run_once() == 0  # three in flight already, held by a
    dest.gate.set()
    assert await task == 3
    assert dest.peak == 3
    statuses = Counter(r.status for r in await rows(any_store))
    assert statuses == {"done": 3, "pending": 7}


async def test_run_forever_never_exceeds_max_in_flight_and_drains(store: Any) -> None:
    dest = Recorder()
    await add(store, 60)
    d = Dispatcher(store, config(fwd(max_in_flight=4)), {"hook": dest}, owner="a", poll_interval=0.05)
    d.metrics = Metrics()
    stop = asyncio.Event()
    task = asyncio.create_task(d.run_forever(stop))
    await wait_until(lambda: len(dest.sent) == 60)
    stop.set()
    await task
    assert dest.peak <= 4
    assert Counter(r.status for r in await rows(store)) == {"done": 60}
    assert d.metrics.deliveries.labels("hook")._value.get() == 60


async def test_permanent_error_is_dead_lettered_at_once(store: Any) -> None:
    def refuse(item: OutboxItem) -> None:
        raise PermanentDeliveryError("HTTP 422: unknown agency")

    await add(store, 1)
    d = Dispatcher(store, config(fwd()), {"hook": Recorder(refuse)}, owner="a")
    assert await d.run_once() == 1
    [row] = await rows(store)
    assert row.status == "dead" and "422" in row.last_error
    async with store.session() as s:
        [dead] = (await s.exec(select(DeadLetter))).scalars().all()
    assert dead.outbox_id == row.id and "unknown agency" in dead.reason and dead.attempts == 1
    assert d.dead_lettered["hook"] == 1


async def test_retryable_error_backs_off_then_dead_letters_after_max_attempts(store: Any) -> None:
    def busy(item: OutboxItem) -> None:
        raise RetryableError("HTTP 503")

    await add(store, 1)
    d = Dispatcher(store, config(fwd(max_attempts=4)), {"hook": Recorder(busy)}, owner="a",
                   backoff_base=10.0, backoff_max=100.0, rng=random.Random(3))
    for attempt in (1, 2, 3):
        before = utcnow()
        assert await d.run_once() == 1
        [row] = await rows(store)
        assert (row.status, row.attempts, row.last_error) == ("pending", attempt, "RetryableError: HTTP 503")
        ceiling = min(100.0, 10.0 * 2 ** (attempt - 1))
        assert before <= row.next_attempt_at <= utcnow() + timedelta(seconds=ceiling)
        assert await d.run_once() == 0 or row.next_attempt_at <= utcnow()
        await make_due(store)
    assert await d.run_once() == 1
    [row] = await rows(store)
    assert row.status == "dead" and row.last_error.startswith("gave up after 4 attempts")


async def test_retry_after_beyond_max_age_dead_letters(store: Any) -> None:
    def throttled(item: OutboxItem) -> None:
        raise RetryableError("HTTP 429", retry_after=7200)

    await add(store, 1)
    d = Dispatcher(store, config(fwd(max_age=3600)), {"hook": Recorder(throttled)}, owner="a")
    assert await d.run_once() == 1
    [row] = await rows(store)
    assert row.status == "dead" and "max_age" in row.last_error and "429" in row.last_error


async def test_unexpected_exception_is_retried_not_fatal(store: Any) -> None:
    def bug(item: OutboxItem) -> None:
        raise KeyError("oops")

    await add(store, 1)
    d = Dispatcher(store, config(fwd()), {"hook": Recorder(bug)}, owner="a")
    assert await d.run_once() == 1
    [row] = await rows(store)
    assert row.status == "pending" and "KeyError" in row.last_error


async def test_old_rows_without_a_target_are_dead_lettered_by_age(store: Any) -> None:
    await add(store, 2, destination="gone")
    async with store.session() as s:
        await s.exec(update(OutboxRow).where(OutboxRow.id == 1).values(created_at=utcnow() - timedelta(days=4)))
        await s.commit()
    d = Dispatcher(store, config(fwd()), {"hook": Recorder()}, owner="a")
    assert await d.run_once() == 0
    assert [r.status for r in await rows(store)] == ["dead", "pending"]
    assert "max_age" in (await rows(store))[0].last_error


async def test_expired_claims_return_and_live_claims_are_left_alone(store: Any) -> None:
    await add(store, 2)
    async with store.session() as s:
        await s.exec(update(OutboxRow).where(OutboxRow.id == 1).values(
            status="in_flight", claimed_by="crashed", claimed_until=utcnow() - timedelta(seconds=1), attempts=1))
        await s.exec(update(OutboxRow).where(OutboxRow.id == 2).values(
            status="in_flight", claimed_by="alive", claimed_until=utcnow() + timedelta(hours=1), attempts=1))
        await s.commit()
    dest = Recorder()
    d = Dispatcher(store, config(fwd()), {"hook": dest}, owner="a")
    assert await d.run_once() == 1
    assert dest.sent == ["ticket:TIK-2026-000001:hook"]
    assert [(r.status, r.attempts) for r in await rows(store)] == [("done", 2), ("in_flight", 1)]


async def test_restart_under_the_same_owner_takes_back_its_claims(store: Any) -> None:
    await add(store, 1)
    async with store.session() as s:
        await s.exec(update(OutboxRow).values(status="in_flight", claimed_by="me",
                                              claimed_until=utcnow() + timedelta(hours=1)))
        await s.commit()
    dest = Recorder()
    assert await Dispatcher(store, config(fwd()), {"hook": dest}, owner="me").run_once() == 1
    assert len(dest.sent) == 1


async def test_stuck_summary_notifies_forwarders_taking_notifications(store: Any) -> None:
    await add(store, 2)
    await add(store, 1, destination="reply:x", item_type="reply", start=9)
    now = utcnow()
    async with store.session() as s:
        await s.exec(update(OutboxRow).values(created_at=now - timedelta(hours=3)))
        await s.exec(update(OutboxRow).where(OutboxRow.id == 3).values(status="dead"))
        s.add(DeadLetter(outbox_id=3, destination="reply:x", reason="HTTP 403", attempts=1,
                         created_at=now - timedelta(minutes=30)))
        await s.commit()
    cfg = config(fwd(), fwd("coord", item_types=["notification"]))
    d = Dispatcher(store, cfg, {}, owner="a", stuck_after=3600, summary_interval=3600)
    summary = await d.summarize(now)
    assert summary is not None and summary["total"] == 3
    assert summary["waiting"] == {"hook": {"pending": 2}} and summary["dead"] == {"reply:x": 1}
    assert summary["recipients"] == ["coord"]
    again = await d.summarize(now)  # a second replica in the same window enqueues nothing new
    assert again is not None
    async with store.session() as s:
        notes = (await s.exec(select(OutboxRow).where(OutboxRow.item_type == "notification"))).scalars().all()
    assert [n.destination for n in notes] == ["coord"]
    assert "hook: 2 menunggu" in notes[0].payload["text"]
    assert "admin sistem" in notes[0].payload["text"] and "omnichannel" not in notes[0].payload["text"]  # officers have no shell


async def test_quiet_outbox_gives_no_summary(store: Any) -> None:
    await add(store, 1)
    d = Dispatcher(store, config(fwd("coord", item_types=["notification"])), {}, owner="a")
    assert await d.summarize() is None


async def _two_dispatchers_never_share(store: Any) -> None:
    dest = Recorder()
    await add(store, 400)
    cfg = config(fwd(max_in_flight=1000))
    stop = asyncio.Event()
    ds = [Dispatcher(store, cfg, {"hook": dest}, owner=o, poll_interval=0.02, batch_size=10)
          for o in ("a", "b", "c")]
    tasks = [asyncio.create_task(d.run_forever(stop)) for d in ds]
    await wait_until(lambda: len(dest.sent) >= 400, limit=60)
    stop.set()
    await asyncio.gather(*tasks)
    counts = Counter(dest.sent)
    assert len(counts) == 400 and max(counts.values()) == 1
    assert Counter(r.status for r in await rows(store)) == {"done": 400}
    assert sum(1 for d in ds if d.delivered["hook"]) >= 2, "only one dispatcher ever got work"


async def test_concurrent_claims_are_disjoint(any_store: Any) -> None:
    await add(any_store, 300)
    wanted = {"hook": (1000, 25, 60.0)}
    batches = await asyncio.gather(*(outbox_ops.claim(any_store, f"o{i}", wanted) for i in range(12)))
    ids = [c.id for b in batches for c in b]
    assert len(ids) == len(set(ids)) == 300
    async with any_store.session() as s:
        n = (await s.exec(select(func.count()).where(OutboxRow.status == "in_flight"))).scalar_one()
    assert n == 300


@pytest.mark.postgres
async def test_three_dispatchers_on_postgresql_never_take_the_same_row(pg_store: Any) -> None:
    await _two_dispatchers_never_share(pg_store)


async def test_three_dispatchers_on_sqlite_never_take_the_same_row(store: Any) -> None:
    await _two_dispatchers_never_share(store)
