"""LAPOR! status sync: polls each open ticket's report, updates the ticket, answers citizens with tindak lanjut.

The LAPOR! forwarder schedules ``sync_once`` every ``status_sync_interval`` seconds (``periodic_jobs``).
Per ticket, in one transaction: every tindak lanjut not seen before goes through
``router.delivery.answers.record_answer`` (one ``reply`` row per reporter, on each one's own channel) and is
remembered by an audit event ``lapor_tindak_lanjut`` carrying its id; a new LAPOR! status is stored in
``Ticket.lapor_status`` and, where ``ticket_status_map`` says so, moves the ticket forward through
``router.delivery.answers.set_status`` (``selesai`` sends the ``closed`` notice). Tickets never move backwards.
Reads go through the JSON mapping (``get_path``, ``followups_path``) whatever the submission wire is:
the published legacy API has no status call. A Pemda without LAPOR!'s JSON API sets
``json: {get_path: null}`` and the sync stays off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from omnichannel.errors import PermanentDeliveryError, RetryableError
from omnichannel.models import AuditEvent, Ticket
from omnichannel.types import utcnow
from router.delivery.answers import STATUSES, record_answer, set_status
from router.delivery.lapor_wire import LaporWire, RemoteReport

log = logging.getLogger(__name__)
CLOSED = ("selesai", "ditolak")


@dataclass
class SyncResult:
    """What one sync round did."""

    checked: int = 0
    status_changes: int = 0
    answers: int = 0
    replies: int = 0
    errors: int = 0


def moves_forward(current: str, target: str) -> bool:
    """True when ``target`` is further along than ``current`` (closed tickets stay closed)."""
    if current in CLOSED or target not in STATUSES:
        return False
    return current not in STATUSES or STATUSES.index(target) > STATUSES.index(current)


async def sync_once(store: Any, config: Any, wire: LaporWire, lapor: Any, forwarder: str, templates: Any,
                    ) -> SyncResult:
    """Poll every open ticket with a LAPOR! tracking id (of this forwarder's agencies) once."""
    result = SyncResult()
    if not wire.mapping.get_path:
        log.debug("lapor %s: no get_path in the JSON mapping; status sync is off", forwarder)
        return result
    if templates is None:
        from omnichannel.templates import Templates

        templates = Templates(config.templates, config.templates_dir)
    last_id = 0
    while True:
        q = (select(Ticket.id, Ticket.lapor_tracking_id)
             .where(Ticket.lapor_tracking_id.is_not(None), Ticket.status.not_in(CLOSED), Ticket.id > last_id)
             .order_by(Ticket.id).limit(lapor.status_sync_batch))
        if "*" not in lapor.agencies:
            q = q.where(Ticket.agency.in_(lapor.agencies))
        async with store.session() as session:
            page = (await session.exec(q)).all()
        if not page:
            break
        for ticket_id, tracking_id in page:
            last_id = ticket_id
            try:
                remote = await wire.get(tracking_id)
            except RetryableError as exc:
                result.errors += 1
                log.warning("lapor %s: status sync paused at report %s: %s", forwarder, tracking_id, exc)
                return result  # LAPOR! is struggling: the next round starts over
            except PermanentDeliveryError as exc:
                result.errors += 1
                log.warning("lapor %s: report %s cannot be read: %s", forwarder, tracking_id, exc)
                continue
            if remote is None:
                continue
            result.checked += 1
            part = SyncResult()
            try:
                await _apply(store, config, templates, lapor, forwarder, ticket_id, remote, part)
            except Exception as exc:  # one report LAPOR! shows oddly must not stop the sync of every later one
                result.errors += 1
                # the message of a database error carries statement parameters (replies' origins): DEBUG only
                log.warning("lapor %s: report %s not applied (rolled back): %s", forwarder, tracking_id,
                            type(exc).__name__)
                log.debug("lapor %s: report %s: %r", forwarder, tracking_id, exc)
                continue
            result.status_changes += part.status_changes
            result.answers += part.answers
            result.replies += part.replies
    if result.status_changes or result.answers:
        log.info("lapor %s: status sync checked %d, %d status changes, %d tindak lanjut → %d replies",
                 forwarder, result.checked, result.status_changes, result.answers, result.replies)
    return result


async def _apply(store: Any, config: Any, templates: Any, lapor: Any, forwarder: str, ticket_id: int,
                 remote: RemoteReport, result: SyncResult) -> None:
    actor = f"lapor:{forwarder}"
    async with store.session() as session:
        q = select(Ticket).where(Ticket.id == ticket_id)
        if store.dialect == "postgresql":
            q = q.with_for_update()  # two replicas syncing at once must not answer twice
        ticket = (await session.exec(q)).scalars().first()
        if ticket is None or ticket.status in CLOSED:
            return
        seen_q = select(AuditEvent.detail).where(AuditEvent.subject_type == "ticket",
                                                 AuditEvent.subject_ref == ticket.ref,
                                                 AuditEvent.action == "lapor_tindak_lanjut")
        seen = {d.get("id") for d in (await session.exec(seen_q)).scalars().all()}
        for note in remote.followups:
            if note.id in seen:
                continue
            replies = await record_answer(session, ticket, note.text, actor, config, templates)
            session.add(AuditEvent(actor=forwarder, action="lapor_tindak_lanjut", subject_type="ticket",
                                   subject_ref=ticket.ref, detail={
                                       "id": note.id, "tracking_id": remote.tracking_id, "author": note.author,
                                       "at": note.at, "replies": replies}))
            result.answers += 1
            result.replies += replies
        if remote.status and remote.status != ticket.lapor_status:
            session.add(AuditEvent(actor=forwarder, action="lapor_status", subject_type="ticket",
                                   subject_ref=ticket.ref, detail={"from": ticket.lapor_status, "to": remote.status,
                                                                   "tracking_id": remote.tracking_id}))
            ticket.lapor_status = str(remote.status)[:64]
            ticket.updated_at = utcnow()
            session.add(ticket)
            result.status_changes += 1
            target = lapor.ticket_status_map.get(remote.status)
            if target and moves_forward(ticket.status, target):
                await set_status(session, ticket, target, f"Status SP4N-LAPOR!: {remote.status}", actor,
                                 config, templates)
        await session.commit()
