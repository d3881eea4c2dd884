"""Officers' corrections of grouping: merge one case into another, split complaints out into a new case.

Both write in the caller's session (the caller commits): complaints move, counts are recounted, tickets move or
close as ``digabung`` (merge) or are opened for the new case (split), audit events on cases and tickets, and
the forwarders get a ``ticket_update`` (or a ``ticket`` for a new one), as after routing.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import distinct, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from omnichannel.models import AuditEvent, Case, Complaint, Ticket
from omnichannel.outbox import enqueue_many
from omnichannel.types import utcnow
from router.delivery.answers import (
    _ticket_payload,
    forwarders_for,
    free_ticket,
    next_number,
    ticket_update,
)
from router.pipeline_rows import case_ref

log = logging.getLogger(__name__)

FINISHED = ("dialihkan", "digabung")  # tickets that no longer carry work


async def recount(session: AsyncSession, case_ids: list[int]) -> None:
    """Complaints and distinct reporters of each case, counted in SQL (as the router does)."""
    member = (Complaint.case_id == Case.id) & (Complaint.status != "merged")
    n_complaints = select(func.count(Complaint.id)).where(member).scalar_subquery()
    n_reporters = select(func.count(distinct(func.coalesce(Complaint.reporter_id, -Complaint.id)))) \
        .where(member).scalar_subquery()
    await session.exec(update(Case).where(Case.id.in_(case_ids))
                       .values(complaint_count=n_complaints, reporter_count=n_reporters, updated_at=utcnow()))


async def merge_cases(session: AsyncSession, source: Case, target: Case, actor: str, config: Any,
                      templates: Any) -> dict[str, Any]:
    """Move every complaint of ``source`` into ``target``; ``source``'s tickets move along, or close as
    ``digabung`` where ``target`` already has a ticket for that agency (ValueError when not allowed)."""
    if source.id == target.id:
        raise ValueError("a case cannot be merged into itself")
    now = utcnow()
    moved = (await session.exec(update(Complaint).where(Complaint.case_id == source.id)
                                .values(case_id=target.id))).rowcount
    into = {t.agency: t for t in (await session.exec(select(Ticket).where(Ticket.case_id == target.id)))
            .scalars().all()}
    closed, carried = [], []
    for t in (await session.exec(select(Ticket).where(Ticket.case_id == source.id))).scalars().all():
        if t.agency in into:
            previous = t.status
            t.status, t.updated_at, t.closed_at = "digabung", now, t.closed_at or now
            session.add(AuditEvent(at=now, actor=actor, action="merged_into", subject_type="ticket",
                                   subject_ref=t.ref, detail={"from": previous, "ticket_to": into[t.agency].ref,
                                                              "case_to": target.ref}))
            closed.append(t.ref)
        else:
            t.case_id, t.updated_at = target.id, now
            carried.append(t.ref)
        session.add(t)
    await session.flush()
    await recount(session, [source.id, target.id])
    for case in (source, target):
        session.add(AuditEvent(at=now, actor=actor, action="case_merge", subject_type="case", subject_ref=case.ref,
                               detail={"from": source.ref, "into": target.ref, "complaints": moved,
                                       "closed_tickets": closed, "moved_tickets": carried}))
    for t in (await session.exec(select(Ticket).where(Ticket.case_id == target.id))).scalars().all():
        if t.status not in FINISHED:
            await ticket_update(session, t, config, f"kasus {source.ref} digabung ke {target.ref}")
    log.info("case %s merged into %s by %s: %d complaints, tickets closed %s, moved %s", source.ref, target.ref,
             actor, moved, closed, carried)
    return {"case": source.ref, "into": target.ref, "complaints": moved, "closed_tickets": closed,
            "moved_tickets": carried}


async def split_case(session: AsyncSession, case: Case, refs: list[str], actor: str, config: Any,
                     templates: Any) -> dict[str, Any]:
    """Move the complaints ``refs`` (and the follow-ups merged into them) to a new case with a ticket for each
    agency that still works on ``case`` (ValueError when not allowed)."""
    wanted = {r.strip().upper() for r in refs if isinstance(r, str) and r.strip()}
    members = (await session.exec(select(Complaint).where(Complaint.case_id == case.id)
                                  .order_by(Complaint.id))).scalars().all()
    chosen = [c for c in members if c.ref in wanted]
    unknown = wanted - {c.ref for c in chosen}
    if not wanted or unknown:
        raise ValueError(f"not complaints of case {case.ref}: {', '.join(sorted(unknown)) or '(none given)'}")
    ids = {c.id for c in chosen}
    moving = [c for c in members if c.id in ids or c.duplicate_of in ids]
    if len(moving) == len(members):
        raise ValueError("a split must leave at least one complaint in the case")
    now = utcnow()
    case_id, ref = await _free_case(session, now.year)
    new = Case(id=case_id, ref=ref, title=None, location=chosen[0].location,
               created_at=now, updated_at=now)
    session.add(new)
    await session.flush()
    await session.exec(update(Complaint).where(Complaint.id.in_([c.id for c in moving])).values(case_id=new.id))
    opened = []
    for t in (await session.exec(select(Ticket).where(Ticket.case_id == case.id))).scalars().all():
        if t.status in FINISHED:
            continue
        ticket_id, ticket_ref = await free_ticket(session, now.year)
        fresh = Ticket(id=ticket_id, ref=ticket_ref, case_id=new.id, agency=t.agency, kind=t.kind,
                       status="baru", sla_due=t.sla_due, sla_extended=t.sla_extended, created_at=now, updated_at=now)
        session.add(fresh)
        await session.flush()
        session.add(AuditEvent(at=now, actor=actor, action="split_from", subject_type="ticket",
                               subject_ref=fresh.ref, detail={"ticket_from": t.ref, "case_from": case.ref}))
        opened.append((t, fresh))
    await recount(session, [case.id, new.id])
    moved_refs = [c.ref for c in moving]
    for subject in (case.ref, new.ref):
        session.add(AuditEvent(at=now, actor=actor, action="case_split", subject_type="case", subject_ref=subject,
                               detail={"from": case.ref, "new_case": new.ref, "complaints": moved_refs,
                                       "new_tickets": [f.ref for _, f in opened]}))
    for old, fresh in opened:
        agency = config.agency(fresh.agency)
        payload = await _ticket_payload(session, fresh, agency.name if agency else fresh.agency)
        await enqueue_many(session, [("ticket", fresh.ref, name, payload)
                                     for name in forwarders_for(config, "ticket", fresh)])
        await ticket_update(session, old, config, f"{len(moving)} aduan dipisah ke {new.ref} ({fresh.ref})")
    log.info("case %s split by %s: %d complaints to %s", case.ref, actor, len(moving), new.ref)
    return {"case": case.ref, "new_case": new.ref, "complaints": moved_refs,
            "new_tickets": [f.ref for _, f in opened]}


async def _free_case(session: AsyncSession, year: int) -> tuple[int, str]:
    """The next case id and ref from the shared counter, both unused (the router's case ids are the
    counter's numbers; on PostgreSQL the table's own sequence never moved)."""
    for _ in range(1000):
        number = await next_number(session, "case")
        ref = case_ref(number, year)
        if (await session.exec(select(Case.id).where((Case.ref == ref) | (Case.id == number)))).first() is None:
            return number, ref
    raise ValueError("no free case number found; check the 'case' counter")
