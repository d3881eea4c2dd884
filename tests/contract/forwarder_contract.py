"""The contract every forwarder runs, through the real Dispatcher and store.

Subclass ``ForwarderContract`` in your test module and define one fixture, ``contract_remote``, returning
an object that controls a local server standing in for the destination:

- ``supports``: the set of modes the destination can show, from ``ok`` (accepts), ``reject`` (refuses for
  good: HTTP 4xx, SMTP 5xx, a broker error), ``throttle`` (429 with ``Retry-After: retry_after``),
  ``fail`` (temporary: 5xx, SMTP 4xx), ``hang`` (accepts the connection, never answers), ``down``
  (connection refused) and ``dedupe`` (a repeat with the same idempotency key is accepted once).
  Cases for other modes are skipped with the reason.
- ``retry_after``: the seconds the ``throttle`` mode asks for.
- ``async set_mode(mode)``: switch behaviour (``down`` may stop the server; ``ok`` brings it back).
- ``make_config(name)``: the forwarder's config pointing at the server, with a short ``timeout`` (≤ 2 s)
  so ``hang`` ends quickly.
- ``async received()``: the idempotency keys the destination holds, one entry per stored copy.

The suite uses the ``store`` fixture from ``tests/conftest.py``.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select, update

from omnichannel import registry
from omnichannel.config import Config
from omnichannel.models import DeadLetter, OutboxRow
from omnichannel.outbox import enqueue
from omnichannel.protocols import PluginContext
from omnichannel.types import OutboxItem, utcnow
from router.delivery.dispatcher import Dispatcher

NAME = "contract-fwd"


def ticket_payload(n: int = 1, anonymous: bool = False) -> dict[str, Any]:
    """A ``ticket`` payload as INTERFACES.md describes it."""
    return {
        "ticket": f"TIK-2026-{n:06d}", "case": f"KAS-2026-{n:06d}", "complaint": f"ADU-2026-{n:06d}",
        "kind": "pengaduan", "agency": "dpupr", "agency_name": "Dinas PUPR",
        "location": {"kelurahan": "Sukajadi", "kecamatan": "Sukajadi", "text": "Jl. Sukajadi dekat pasar"},
        "sla_due": "2026-03-10T09:00:00+00:00", "reporters": 1, "subject": "Jalan berlubang",
        "text": "Jalan di depan pasar berlubang besar, sudah 2 minggu. Hubungi saya 081234567890",
        "text_masked": "Jalan di depan pasar berlubang besar, sudah 2 minggu. Hubungi saya 0812******90",
        "channel": "telegram", "reporter": None if anonymous else {
            "name": "Budi Santoso", "email": "budi@example.id", "phone": "+6281234567890"},
        "anonymous": anonymous, "confidential": False, "created_at": "2026-03-03T02:00:00+00:00"}


async def start_forwarder(cfg: Any, store: Any, tmp_path: Any) -> Any:
    """Build and start the forwarder of ``cfg.kind`` as the daemon does."""
    cls = registry.load(registry.FORWARDERS[cfg.kind][0])
    forwarder = cls(cfg.name, cfg)
    ctx = PluginContext(name=cfg.name, data_dir=tmp_path, attachments_dir=tmp_path / "att")
    ctx.extra.update(config=Config(data_dir=tmp_path, forwarders=[cfg]), store=store)
    await forwarder.start(ctx)
    return forwarder


class ForwarderContract:
    """Shared cases: 2xx → done, 4xx → dead letter, 429 → retry after Retry-After, 5xx, timeout and
    connection refused → retry; and the idempotency key reaches the destination."""

    @pytest_asyncio.fixture
    async def contract(self, contract_remote: Any, store: Any, tmp_path: Any) -> Any:
        remote = contract_remote
        cfg = remote.make_config(NAME)
        forwarder = await start_forwarder(cfg, store, tmp_path)
        config = Config(data_dir=tmp_path, forwarders=[cfg])
        dispatcher = Dispatcher(store, config, {NAME: forwarder}, owner="contract", backoff_base=0.5,
                                backoff_max=2.0, claim_grace=5.0, rng=random.Random(7))
        yield remote, dispatcher, forwarder
        await forwarder.stop()

    @staticmethod
    def need(remote: Any, mode: str) -> None:
        if mode not in remote.supports:
            pytest.skip(f"this destination cannot show mode {mode!r}")

    @staticmethod
    async def enqueue(store: Any, n: int = 1) -> str:
        async with store.session() as s:
            await enqueue(s, "ticket", f"TIK-2026-{n:06d}", NAME, ticket_payload(n))
            await s.commit()
        return f"ticket:TIK-2026-{n:06d}:{NAME}"

    @staticmethod
    async def row(store: Any) -> OutboxRow:
        async with store.session() as s:
            return (await s.exec(select(OutboxRow).where(OutboxRow.destination == NAME))).scalars().one()

    @staticmethod
    async def make_due(store: Any) -> None:
        async with store.session() as s:
            await s.exec(update(OutboxRow).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
            await s.commit()

    async def test_accepted_is_done_and_sent_once(self, contract: Any, store: Any) -> None:
        remote, dispatcher, _ = contract
        self.need(remote, "ok")
        await remote.set_mode("ok")
        key = await self.enqueue(store)
        assert await dispatcher.run_once() == 1
        row = await self.row(store)
        assert (row.status, row.attempts, row.last_error) == ("done", 1, None)
        assert await dispatcher.run_once() == 0
        assert await remote.received() == [key]
        assert dispatcher.delivered[NAME] == 1

    async def test_refused_for_good_is_dead_lettered_with_reason(self, contract: Any, store: Any) -> None:
        remote, dispatcher, _ = contract
        self.need(remote, "reject")
        await remote.set_mode("reject")
        await self.enqueue(store)
        assert await dispatcher.run_once() == 1
        row = await self.row(store)
        assert row.status == "dead" and row.last_error
        async with store.session() as s:
            dead = (await s.exec(select(DeadLetter))).scalars().all()
        assert [(d.outbox_id, d.attempts) for d in dead] == [(row.id, 1)]
        assert "permanent" in dead[0].reason
        assert await remote.received() == []

    async def test_throttled_waits_at_least_retry_after(self, contract: Any, store: Any) -> None:
        remote, dispatcher, _ = contract
        self.need(remote, "throttle")
        await remote.set_mode("throttle")
        await self.enqueue(store)
        before = utcnow()
        assert await dispatcher.run_once() == 1
        row = await self.row(store)
        assert row.status == "pending" and row.attempts == 1 and row.last_error
        assert row.next_attempt_at >= before + timedelta(seconds=remote.retry_after)
        assert await dispatcher.run_once() == 0  # not due yet
        await remote.set_mode("ok")
        await self.make_due(store)
        assert await dispatcher.run_once() == 1
        assert (await self.row(store)).status == "done"

    @pytest.mark.parametrize("mode", ["fail", "hang", "down"])
    async def test_temporary_failure_is_retried_then_delivered(self, contract: Any, store: Any, mode: str) -> None:
        remote, dispatcher, _ = contract
        self.need(remote, mode)
        await remote.set_mode(mode)
        key = await self.enqueue(store)
        before = utcnow()  # (not "now less a second" after the attempt: a loaded machine can take longer)
        assert await dispatcher.run_once() == 1
        row = await self.row(store)
        assert row.status == "pending" and row.attempts == 1 and row.last_error
        assert row.next_attempt_at >= before
        assert dispatcher.failed[NAME] == 1
        await remote.set_mode("ok")
        await self.make_due(store)
        assert await dispatcher.run_once() == 1
        row = await self.row(store)
        assert (row.status, row.attempts) == ("done", 2)
        assert key in await remote.received()

    async def test_gives_up_after_max_attempts(self, contract: Any, store: Any) -> None:
        remote, dispatcher, _ = contract
        self.need(remote, "fail")
        await remote.set_mode("fail")
        await self.enqueue(store)
        attempts = dispatcher.policy(NAME).max_attempts
        for _ in range(attempts):
            await self.make_due(store)
            assert await dispatcher.run_once() == 1
        row = await self.row(store)
        assert row.status == "dead" and f"after {attempts} attempts" in row.last_error

    async def test_same_key_twice_is_held_once(self, contract: Any, store: Any) -> None:
        remote, _, forwarder = contract
        self.need(remote, "dedupe")
        await remote.set_mode("ok")
        key = f"ticket:TIK-2026-000009:{NAME}"
        item = OutboxItem(9, "ticket", "TIK-2026-000009", NAME, ticket_payload(9))
        first = await forwarder.send(item, key)
        second = await forwarder.send(item, key)
        assert await remote.received() == [key]
        assert first.remote_ref == second.remote_ref
