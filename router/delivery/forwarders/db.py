"""Forwarder kind ``db`` (the default agency queue): the ticket already sits in our store.

Sending checks that the ticket exists and is in the forwarder's agencies, and records an audit event
``queued`` (once per idempotency key), so the officers' HTTP API and the audit trail show when it
entered the queue. The remote ref is the ticket ref.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Literal

from sqlalchemy import select

from omnichannel.config import ForwarderConfig
from omnichannel.errors import PermanentDeliveryError, RetryableError
from omnichannel.models import AuditEvent, Ticket
from omnichannel.protocols import PluginContext
from omnichannel.types import OutboxItem, Receipt, utcnow

log = logging.getLogger(__name__)


class DbQueueConfig(ForwarderConfig):
    """The agency queue in our own store; nothing to configure beyond the common fields."""

    kind: Literal["db"] = "db"
    item_types: list[str] = ["ticket", "ticket_update"]


class DbQueueForwarder:
    """Marks tickets as queued for their agency's officers."""

    kind: ClassVar[str] = "db"

    def __init__(self, name: str, config: DbQueueConfig) -> None:
        self.name = name
        self.config = config
        self.store: Any = None

    async def start(self, ctx: PluginContext) -> None:
        """Take the daemon's store from the context."""
        self.store = ctx.extra.get("store")
        if self.store is None:
            raise RuntimeError("the db forwarder needs the store in ctx.extra['store']")

    async def send(self, item: OutboxItem, idempotency_key: str) -> Receipt:
        """Record that the item reached the agency queue; idempotent per key."""
        ref = str(item.payload.get("ticket") or item.item_ref.split("#", 1)[0])
        try:
            async with self.store.session() as session:
                ticket = (await session.exec(select(Ticket).where(Ticket.ref == ref))).scalars().first()
                if ticket is None:
                    raise PermanentDeliveryError(f"db queue {self.name}: no ticket {ref} in the store")
                agencies = self.config.agencies
                if "*" not in agencies and ticket.agency not in agencies:
                    raise PermanentDeliveryError(
                        f"db queue {self.name}: ticket {ref} belongs to {ticket.agency}, not {', '.join(agencies)}")
                action = "queued" if item.item_type == "ticket" else f"queued_{item.item_type}"
                subject = item.item_ref[:64]
                actor = f"forwarder:{self.name}"
                seen = (await session.exec(select(AuditEvent.id).where(
                    AuditEvent.subject_ref == subject, AuditEvent.action == action, AuditEvent.actor == actor))).first()
                if seen is None:
                    session.add(AuditEvent(at=utcnow(), actor=actor, action=action, subject_type="ticket",
                                           subject_ref=subject, detail={"key": idempotency_key, "ticket": ref,
                                                                        "agency": ticket.agency}))
                    await session.commit()
                agency = ticket.agency
        except PermanentDeliveryError:
            raise
        except Exception as exc:  # the store is busy or unreachable: try again later
            raise RetryableError(f"db queue {self.name}: {type(exc).__name__}: {exc}") from exc
        log.debug("db queue %s: %s queued for %s", self.name, ref, agency)
        return Receipt(remote_ref=ref)

    async def stop(self) -> None:
        """Nothing to close (the store belongs to the daemon)."""

    async def probe(self) -> str:
        """The store answers."""
        if self.store is None or not await self.store.ping():
            raise RetryableError("store unreachable")
        return f"db queue {self.name}: store reachable"
