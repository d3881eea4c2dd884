"""Outbox operations: claiming due rows, recording outcomes, dead letters, and the admin's list/retry."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select, update

from omnichannel.models import AuditEvent, DeadLetter, OutboxRow
from omnichannel.types import utcnow

if TYPE_CHECKING:  # pragma: no cover
    from omnichannel.store import Store

log = logging.getLogger(__name__)

ACTIVE = ("pending", "in_flight")


@dataclass(slots=True)
class Claimed:
    """One outbox row claimed by a dispatcher (a plain copy: no session needed to read it)."""

    id: int
    item_type: str
    item_ref: str
    destination: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


@dataclass(slots=True)
class Outcome:
    """What became of one delivery attempt: ``done``, ``retry`` (at ``retry_at``) or ``dead``."""

    row_id: int
    destination: str
    kind: str
    attempts: int
    error: str | None = None
    remote_ref: str | None = None
    retry_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_CLAIM_COLUMNS = (OutboxRow.id, OutboxRow.item_type, OutboxRow.item_ref, OutboxRow.destination,
                  OutboxRow.idempotency_key, OutboxRow.payload, OutboxRow.attempts, OutboxRow.created_at)


def _in_flight_count(destination: str, now: datetime) -> Any:
    return (select(func.count()).select_from(OutboxRow)
            .where(OutboxRow.status == "in_flight", OutboxRow.destination == destination,
                   OutboxRow.claimed_until > now))


async def claim(store: Store, owner: str, wanted: dict[str, tuple[int, int, float]]) -> list[Claimed]:
    """Claim due rows in one transaction; ``wanted`` maps destination → (max_in_flight, local cap, ttl).

    At most ``max_in_flight`` rows of a destination are in flight over all dispatchers (unexpired
    claims counted in the store), and at most ``local cap`` are taken now. PostgreSQL serialises
    claimers of one destination with an advisory lock and skips rows locked by others
    (``FOR UPDATE SKIP LOCKED``); SQLite runs the whole ``UPDATE ... RETURNING`` as one atomic write.
    """
    now = utcnow()
    out: list[Claimed] = []
    async with store.session() as session:
        for destination, (max_in_flight, local_cap, ttl) in wanted.items():
            if local_cap <= 0:
                continue
            due = (select(OutboxRow.id)
                   .where(OutboxRow.status == "pending", OutboxRow.destination == destination,
                          OutboxRow.next_attempt_at <= now)
                   .order_by(OutboxRow.next_attempt_at, OutboxRow.id))
            if store.dialect == "postgresql":
                await session.exec(select(func.pg_advisory_xact_lock(func.hashtext("outbox:" + destination))))
                busy = (await session.exec(_in_flight_count(destination, now))).scalar_one()
                n = min(local_cap, max_in_flight - int(busy))
                if n <= 0:
                    continue
                # a CTE is evaluated once; ``IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`` may be
                # re-run per row by the planner and take more than n rows
                picked = due.limit(n).with_for_update(skip_locked=True).cte("picked")
                where = OutboxRow.id == picked.c.id
            else:
                free = max_in_flight - _in_flight_count(destination, now).scalar_subquery()
                where = OutboxRow.id.in_(due.limit(func.max(0, func.min(local_cap, free))).scalar_subquery())
            stmt = (update(OutboxRow)
                    .where(where, OutboxRow.status == "pending")
                    .values(status="in_flight", claimed_by=owner, claimed_until=now + timedelta(seconds=ttl),
                            attempts=OutboxRow.attempts + 1)
                    .returning(*_CLAIM_COLUMNS)
                    .execution_options(synchronize_session=False))
            rows = (await session.exec(stmt)).all()
            out.extend(Claimed(*row) for row in rows)
        await session.commit()
    out.sort(key=lambda c: c.id)
    return out


async def next_due(store: Store) -> datetime | None:
    """When the earliest pending row becomes due (None when nothing is pending)."""
    async with store.session() as session:
        q = select(func.min(OutboxRow.next_attempt_at)).where(OutboxRow.status == "pending")
        return (await session.exec(q)).scalar_one_or_none()


async def release(store: Store, owner: str | None = None) -> int:
    """Return claims to pending: expired ones (a dispatcher died), or every claim of ``owner``.

    A dispatcher restarted under the same owner id takes back its own rows at once.
    """
    now = utcnow()
    cond = [OutboxRow.status == "in_flight"]
    if owner is None:
        cond.append(OutboxRow.claimed_until < now)
        why = "claim expired: the dispatcher holding it stopped or hung"
    else:
        cond.append(OutboxRow.claimed_by == owner)
        why = "claim released when its dispatcher restarted"
    stmt = (update(OutboxRow).where(*cond)
            .values(status="pending", claimed_by=None, claimed_until=None, next_attempt_at=now,
                    last_error=func.coalesce(OutboxRow.last_error, why))
            .returning(OutboxRow.id).execution_options(synchronize_session=False))
    async with store.session() as session:
        ids = (await session.exec(stmt)).all()
        await session.commit()
    if ids:
        log.warning("returned %d outbox rows to pending (%s)", len(ids), why)
    return len(ids)


async def record(store: Store, owner: str, outcomes: list[Outcome]) -> None:
    """Write the outcomes of delivery attempts in one transaction.

    ``done`` is recorded even when the claim was lost meanwhile (the item did arrive); ``retry`` and
    ``dead`` only while this dispatcher still holds the claim.
    """
    if not outcomes:
        return
    now = utcnow()
    done = [o for o in outcomes if o.kind == "done"]
    retry = [o for o in outcomes if o.kind == "retry"]
    dead = [o for o in outcomes if o.kind == "dead"]
    async with store.session() as session:
        conn = await session.connection()
        if done:
            stmt = (update(OutboxRow.__table__)
                    .where(OutboxRow.__table__.c.id == bindparam("b_id"),
                           (OutboxRow.__table__.c.status == "pending") | (OutboxRow.__table__.c.status == "in_flight"))
                    .values(status="done", done_at=now, remote_ref=bindparam("b_ref"),
                            claimed_by=None, claimed_until=None))
            await conn.execute(stmt, [{"b_id": o.row_id, "b_ref": (o.remote_ref or "")[:200] or None}
                                      for o in done])
        if retry:
            stmt = (update(OutboxRow.__table__)
                    .where(OutboxRow.__table__.c.id == bindparam("b_id"),
                           OutboxRow.__table__.c.status == "in_flight",
                           OutboxRow.__table__.c.claimed_by == owner)
                    .values(status="pending", next_attempt_at=bindparam("b_at"), last_error=bindparam("b_err"),
                            claimed_by=None, claimed_until=None))
            await conn.execute(stmt, [{"b_id": o.row_id, "b_at": o.retry_at, "b_err": o.error} for o in retry])
        for o in dead:
            stmt = (update(OutboxRow).where(OutboxRow.id == o.row_id, OutboxRow.status.in_(ACTIVE),
                                            (OutboxRow.claimed_by == owner) | (OutboxRow.claimed_by.is_(None)))
                    .values(status="dead", last_error=o.error, claimed_by=None, claimed_until=None)
                    .returning(OutboxRow.id).execution_options(synchronize_session=False))
            if (await session.exec(stmt)).first() is not None:
                await session.exec(insert(DeadLetter).values(
                    outbox_id=o.row_id, destination=o.destination, reason=o.error or "unknown",
                    attempts=o.attempts, created_at=now))
        await session.commit()


async def expire_old(store: Store, max_age: dict[str, float], default_max_age: float) -> list[Outcome]:
    """Dead-letter pending rows older than their destination's ``max_age`` (never left stuck silently)."""
    now = utcnow()
    oldest = min([default_max_age, *max_age.values()])
    q = (select(OutboxRow.id, OutboxRow.destination, OutboxRow.created_at, OutboxRow.attempts,
                OutboxRow.last_error)
         .where(OutboxRow.status == "pending", OutboxRow.created_at < now - timedelta(seconds=oldest)))
    async with store.session() as session:
        rows = (await session.exec(q)).all()
    out = []
    for row_id, destination, created_at, attempts, last_error in rows:
        limit = max_age.get(destination, default_max_age)
        if created_at < now - timedelta(seconds=limit):
            reason = f"max_age {limit:.0f}s exceeded after {attempts} attempts; last error: {last_error or 'none'}"
            out.append(Outcome(row_id, destination, "dead", attempts, reason))
    await record(store, "", out)
    return out


# -- the admin's view (``omnichannel outbox list|retry|dead``) ----------------------------------

def _row_dict(row: OutboxRow) -> dict[str, Any]:
    return {"id": row.id, "item_type": row.item_type, "item_ref": row.item_ref, "destination": row.destination,
            "status": row.status, "attempts": row.attempts, "next_attempt_at": row.next_attempt_at.isoformat(),
            "claimed_by": row.claimed_by, "last_error": row.last_error, "remote_ref": row.remote_ref,
            "created_at": row.created_at.isoformat(),
            "done_at": row.done_at.isoformat() if row.done_at else None}


async def list_rows(store: Store, status: str | None = None, destination: str | None = None,
                    limit: int = 100) -> list[dict[str, Any]]:
    """Outbox rows, newest first; by default everything not yet done."""
    q = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
    q = q.where(OutboxRow.status == status) if status else q.where(OutboxRow.status != "done")
    if destination:
        q = q.where(OutboxRow.destination == destination)
    async with store.session() as session:
        return [_row_dict(r) for r in (await session.exec(q)).scalars().all()]


async def counts(store: Store) -> dict[str, dict[str, int]]:
    """Row counts by destination and status."""
    q = select(OutboxRow.destination, OutboxRow.status, func.count()).group_by(OutboxRow.destination,
                                                                               OutboxRow.status)
    out: dict[str, dict[str, int]] = {}
    async with store.session() as session:
        for destination, status, n in (await session.exec(q)).all():
            out.setdefault(destination, {})[status] = int(n)
    return out


async def dead_letters(store: Store, include_retried: bool = False, limit: int = 100) -> list[dict[str, Any]]:
    """Dead letters with their outbox rows, newest first."""
    q = (select(DeadLetter, OutboxRow).join(OutboxRow, OutboxRow.id == DeadLetter.outbox_id)
         .order_by(DeadLetter.id.desc()).limit(limit))
    if not include_retried:
        q = q.where(DeadLetter.retried_at.is_(None))
    async with store.session() as session:
        rows = (await session.exec(q)).all()
    return [{"id": d.id, "outbox_id": d.outbox_id, "destination": d.destination, "reason": d.reason,
             "attempts": d.attempts, "created_at": d.created_at.isoformat(),
             "retried_at": d.retried_at.isoformat() if d.retried_at else None,
             "item_type": o.item_type, "item_ref": o.item_ref, "status": o.status} for d, o in rows]


async def retry(store: Store, ids: list[int] | None = None, destination: str | None = None,
                include_held: bool = False, actor: str = "cli") -> int:
    """Put dead (and, if asked, held) rows back to pending with a fresh attempt count; returns rows."""
    now = utcnow()
    statuses = ["dead", "held"] if include_held or ids else ["dead"]
    cond = [OutboxRow.status.in_(statuses)]
    if ids:
        cond.append(OutboxRow.id.in_(ids))
    if destination:
        cond.append(OutboxRow.destination == destination)
    async with store.session() as session:
        stmt = (update(OutboxRow).where(*cond)
                .values(status="pending", attempts=0, next_attempt_at=now, created_at=now,
                        claimed_by=None, claimed_until=None)
                .returning(OutboxRow.id, OutboxRow.item_ref, OutboxRow.destination)
                .execution_options(synchronize_session=False))
        rows = (await session.exec(stmt)).all()
        if rows:
            row_ids = [r[0] for r in rows]
            await session.exec(update(DeadLetter).where(DeadLetter.outbox_id.in_(row_ids),
                                                        DeadLetter.retried_at.is_(None))
                               .values(retried_at=now).execution_options(synchronize_session=False))
            await session.exec(insert(AuditEvent), params=[
                {"at": now, "actor": actor, "action": "outbox_retry", "subject_type": "outbox",
                 "subject_ref": str(r[0]), "detail": {"item_ref": r[1], "destination": r[2]}} for r in rows])
        await session.commit()
    return len(rows)


async def stuck(store: Store, older_than: datetime, dead_since: datetime, dead_until: datetime
                ) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Rows not delivered and older than ``older_than`` (by destination and status), and dead letters
    made in ``[dead_since, dead_until)`` by destination."""
    q = (select(OutboxRow.destination, OutboxRow.status, func.count())
         .where(OutboxRow.status.in_(["pending", "in_flight", "held"]), OutboxRow.created_at < older_than)
         .group_by(OutboxRow.destination, OutboxRow.status))
    dq = (select(DeadLetter.destination, func.count())
          .where(DeadLetter.created_at >= dead_since, DeadLetter.created_at < dead_until)
          .group_by(DeadLetter.destination))
    waiting: dict[str, dict[str, int]] = {}
    async with store.session() as session:
        for destination, status, n in (await session.exec(q)).all():
            waiting.setdefault(destination, {})[status] = int(n)
        dead = {d: int(n) for d, n in (await session.exec(dq)).all()}
    return waiting, dead
