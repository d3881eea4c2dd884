"""Work that one replica at a time does, decided through the database: routing and periodic jobs.

Several daemons may share one PostgreSQL store (``docs/operations.md``, Replicas). Pull connectors
already take a lease per connector (``omnichannel.supervisor``); this module gives the same kind of
lease to the two other things that must not run twice at once:

- **The router.** Grouping decisions depend on everything routed before (the dedup index lives in the
  router's memory), so exactly one replica routes: the holder of the ``@router`` lease. Any replica with
  ``daemon.route: true`` is a candidate; the others stand by and take over within ``daemon.lease_ttl``
  seconds of the leader's death (at once when it stops cleanly), rebuilding the index from the store
  first. The lease is *fenced*: each routing transaction renews it inside the transaction that writes the
  batch, and fails (rolls back) if this replica no longer holds it. On PostgreSQL that renewal locks the
  lease row until the commit, so a candidate can only take the lease after the old leader's last batch
  is committed and visible to the index it rebuilds — the decisions are those of one process.
- **Periodic jobs** (SLA marks, LAPOR! status sync, digests): each run takes the ``@job:<id>`` lease for
  most of the period and runs only if it got it, so a job runs once per period across the replicas.

Leases are rows of the ``connector_state`` table (the pull connectors' table), keyed ``@…`` so they never
collide with a connector's name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, or_, update

from omnichannel.models import ConnectorState
from omnichannel.supervisor import acquire_lease, ensure_state_row, release_lease
from omnichannel.types import utcnow

if TYPE_CHECKING:  # pragma: no cover
    from omnichannel.store import Store

log = logging.getLogger(__name__)

ROUTER = "@router"


class LeaseLost(RuntimeError):
    """This replica no longer holds a lease it acted under; what it was writing is rolled back."""


class Lease:
    """A named lease this replica tries to hold (renewed every ``ttl / 3`` seconds while held)."""

    def __init__(self, store: Store, key: str, owner: str, ttl: float) -> None:
        self.store, self.key, self.owner, self.ttl = store, key, owner, ttl
        self.held = False
        self._checked = float("-inf")

    async def hold(self) -> bool:
        """True while this replica holds the lease: takes it when free or expired, renews it when due."""
        now = time.monotonic()
        if self.held and now - self._checked < self.ttl / 3:
            return True
        try:
            got = await acquire_lease(self.store, self.key, self.owner, self.ttl)
        except Exception as exc:  # the store is unreachable: whoever holds it cannot act either
            if self.held:
                log.warning("lease %s: could not renew (%s: %s); standing by", self.key, type(exc).__name__, exc)
            self.held = False
            return False
        self._checked = now
        if got != self.held:
            log.info("lease %s %s by %s", self.key, "taken" if got else "lost", self.owner)
        self.held = got
        return got

    def fence(self, conn: Connection) -> None:
        """Inside a write transaction: renew the lease, or raise ``LeaseLost`` so the write rolls back."""
        row = conn.execute(update(ConnectorState)
                           .where(ConnectorState.connector == self.key, ConnectorState.lease_owner == self.owner)
                           .values(lease_until=utcnow() + timedelta(seconds=self.ttl))
                           .returning(ConnectorState.connector)).first()
        if row is None:
            self.held = False
            raise LeaseLost(f"{self.owner} no longer holds {self.key}")

    async def release(self) -> None:
        """Give the lease up (at shutdown) so another replica takes over at once."""
        if not self.held:
            return
        self.held = False
        try:
            await release_lease(self.store, self.key, self.owner)
        except Exception as exc:
            log.warning("lease %s: could not release (%s); it expires in %.0f s", self.key, exc, self.ttl)


async def claim_period(store: Store, key: str, owner: str, seconds: float) -> bool:
    """Claim the current period of a job (periods are aligned to the epoch, ``seconds`` long): True for the
    one replica that claims it first, False for every other claim in the same period, whoever makes it."""
    now = utcnow()
    epoch = now.timestamp()
    boundary = now + timedelta(seconds=(epoch // seconds + 1) * seconds - epoch)
    async with store.session() as session:
        await ensure_state_row(store, session, key, now)
        stmt = (update(ConnectorState)
                .where(ConnectorState.connector == key,
                       or_(ConnectorState.lease_until.is_(None), ConnectorState.lease_until <= now))
                .values(lease_owner=owner, lease_until=boundary)
                .returning(ConnectorState.connector))
        got = (await session.exec(stmt)).first() is not None
        await session.commit()
    return got


def once_per_period(store: Store, job_id: str, seconds: float, owner: str,
                    job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[bool]]:
    """``job`` wrapped to run only on the replica that claims the current period first (see
    ``claim_period``): with every replica's scheduler firing it each ``seconds``, it runs once per period
    across them. The wrapper says whether it ran here."""
    key = f"@job:{job_id}"

    async def run() -> bool:
        if not await claim_period(store, key, owner, seconds):
            return False
        await job()
        return True

    return run
