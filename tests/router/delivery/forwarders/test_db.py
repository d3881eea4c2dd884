"""The db agency queue: a ticket in the store is marked queued once; missing or foreign tickets dead-letter."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from omnichannel.config import Config
from omnichannel.errors import PermanentDeliveryError
from omnichannel.models import AuditEvent, Case, DeadLetter, OutboxRow, Ticket
from omnichannel.outbox import enqueue
from omnichannel.types import OutboxItem
from router.delivery.dispatcher import Dispatcher
from router.delivery.forwarders.db import DbQueueConfig, DbQueueForwarder
from tests.contract.forwarder_contract import ForwarderContract, start_forwarder, ticket_payload


async def seed(store: Any) -> None:
    async with store.session() as s:
        s.add(Case(id=1, ref="KAS-2026-000001"))
        await s.flush()
        s.add(Ticket(id=1, ref="TIK-2026-000001", case_id=1, agency="dpupr", kind="pengaduan"))
        await s.commit()


async def test_ticket_is_queued_once_through_the_dispatcher(store: Any, tmp_path: Any) -> None:
    await seed(store)
    cfg = DbQueueConfig(name="queue", agencies=["dpupr"])
    fwd = await start_forwarder(cfg, store, tmp_path)
    async with store.session() as s:
        await enqueue(s, "ticket", "TIK-2026-000001", "queue", ticket_payload(1))
        await enqueue(s, "ticket", "TIK-2026-000404", "queue", ticket_payload(404))
        await s.commit()
    d = Dispatcher(store, Config(forwarders=[cfg]), {"queue": fwd}, owner="t")
    assert await d.run_once() == 2
    async with store.session() as s:
        rows = (await s.exec(select(OutboxRow).order_by(OutboxRow.id))).scalars().all()
        dead = (await s.exec(select(DeadLetter))).scalars().all()
    assert [(r.status, r.remote_ref) for r in rows] == [("done", "TIK-2026-000001"), ("dead", None)]
    assert "no ticket TIK-2026-000404" in dead[0].reason
    again = await fwd.send(OutboxItem(1, "ticket", "TIK-2026-000001", "queue", ticket_payload(1)),
                           "ticket:TIK-2026-000001:queue")
    assert again.remote_ref == "TIK-2026-000001"
    async with store.session() as s:
        events = (await s.exec(select(AuditEvent).where(AuditEvent.action == "queued"))).scalars().all()
    assert [(e.subject_ref, e.actor) for e in events] == [("TIK-2026-000001", "forwarder:queue")]


async def test_ticket_of_another_agency_is_refused(store: Any, tmp_path: Any) -> None:
    await seed(store)
    fwd = DbQueueForwarder("q2", DbQueueConfig(name="q2", agencies=["dinkes"]))
    await start_forwarder(fwd.config, store, tmp_path)
    fwd.store = store
    with pytest.raises(PermanentDeliveryError, match="belongs to dpupr"):
        await fwd.send(OutboxItem(1, "ticket", "TIK-2026-000001", "q2", ticket_payload(1)), "k")
    assert "reachable" in await fwd.probe()


class DbRemote:
    """The agency queue is our own store: ``ok`` means the ticket exists, ``reject`` that it does not."""

    supports = {"ok", "reject"}
    retry_after = 0.0

    def __init__(self, store: Any) -> None:
        self.store = store

    async def set_mode(self, mode: str) -> None:
        if mode == "ok":
            async with self.store.session() as s:
                if (await s.exec(select(Ticket).where(Ticket.ref == "TIK-2026-000001"))).first() is None:
                    await s.commit()
                    await seed(self.store)

    def make_config(self, name: str) -> DbQueueConfig:
        return DbQueueConfig(name=name, timeout=1.0, max_attempts=3)

    async def received(self) -> list[str]:
        async with self.store.session() as s:
            events = (await s.exec(select(AuditEvent).where(AuditEvent.action == "queued")
                                   .order_by(AuditEvent.id))).scalars().all()
        return [e.detail["key"] for e in events]


class TestDbContract(ForwarderContract):
    @pytest.fixture
    def contract_remote(self, store: Any) -> DbRemote:
        return DbRemote(store)
