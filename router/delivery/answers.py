"""Officers' answers and status changes reach every reporter of a case, each on their own channel.

One ``reply`` outbox row per reporter, written in the caller's transaction with the ticket update and
an audit event; the dispatcher hands each row to the origin connector's ``Replier``. Public channels
(X) get ``answer_public``: no answer text, no personal data.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from omnichannel import pii
from omnichannel.models import AuditEvent, Case, Complaint, Counter, EnvelopeRow, Identity, Ticket
from omnichannel.outbox import enqueue_many
from omnichannel.types import utcnow
from router.pipeline_rows import kind_can_reply, ticket_ref

log = logging.getLogger(__name__)

PUBLIC_KINDS = {"x"}
STATUSES = ("baru", "diterima", "diproses", "selesai", "ditolak")


async def next_number(session: AsyncSession, name: str) -> int:
    """The next value of counter ``name`` inside ``session``'s transaction (the row lock serialises)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Counter)
    await session.exec(ins.values(name=name[:64], value=0).on_conflict_do_nothing(index_elements=["name"]))
    stmt = (update(Counter).where(Counter.name == name[:64]).values(value=Counter.value + 1)
            .returning(Counter.value))
    return int((await session.exec(stmt)).scalar_one())


async def reporters_of(session: AsyncSession, ticket: Ticket) -> list[tuple[Complaint, dict[str, Any]]]:
    """One (complaint, origin) per reporter of the ticket's case: their first complaint, own channel.

    Complaints merged into the case (resends, cross-channel) count when they come from someone else.
    """
    in_case = select(Complaint.id).where(Complaint.case_id == ticket.case_id)
    q = (select(Complaint, EnvelopeRow.origin)
         .outerjoin(EnvelopeRow, EnvelopeRow.id == Complaint.envelope_id)
         .where(or_(Complaint.case_id == ticket.case_id, Complaint.duplicate_of.in_(in_case)))
         .order_by(Complaint.id))
    seen: set[Any] = set()
    out = []
    for complaint, origin in (await session.exec(q)).all():
        who = ("reporter", complaint.reporter_id) if complaint.reporter_id is not None else ("complaint", complaint.id)
        if who in seen:
            continue
        seen.add(who)
        out.append((complaint, origin or {}))
    return out


async def notify_reporters(session: AsyncSession, ticket: Ticket, config: Any, templates: Any, purpose: str,
                           template: str, public_template: str, **values: Any) -> tuple[int, list[str]]:
    """Queue a ``reply`` per reporter; returns (rows queued, complaint refs that cannot be answered)."""
    agency = config.agency(ticket.agency)
    agency_name = agency.name if agency else ticket.agency
    rows: list[tuple[str, str, str, dict[str, Any]]] = []
    unreachable: list[str] = []
    for complaint, origin in await reporters_of(session, ticket):
        try:
            conn = config.connector(complaint.connector)
        except StopIteration:
            conn = None
        if conn is None or not conn.enabled or not origin or not kind_can_reply(conn.kind):
            unreachable.append(complaint.ref)
            continue
        public = conn.kind in PUBLIC_KINDS or bool(origin.get("public"))
        name = public_template if public else template
        text = templates(name, ref=complaint.ref, ticket=ticket.ref, agency=agency_name, **values)
        payload = {"origin": origin, "text": text, "complaint": complaint.ref, "purpose": purpose.split("-")[0],
                   "public": public}
        rows.append(("reply", f"{complaint.ref}#{purpose}", f"reply:{complaint.connector}", payload))
    await enqueue_many(session, rows)
    return len(rows), unreachable


def forwarders_for(config: Any, item_type: str, ticket: Ticket) -> list[str]:
    """Enabled forwarders that take ``item_type`` for the ticket's agency and kind."""
    names = []
    for fw in config.forwarders:
        if not fw.enabled or item_type not in fw.item_types:
            continue
        if ("*" in fw.agencies or ticket.agency in fw.agencies) and (fw.kinds is None or ticket.kind in fw.kinds):
            names.append(fw.name)
    return names


async def ticket_update(session: AsyncSession, ticket: Ticket, config: Any, note: str | None) -> int:
    """Queue a ``ticket_update`` for the forwarders that take it (status changed by an officer)."""
    names = forwarders_for(config, "ticket_update", ticket)
    if not names:
        return 0
    n = await next_number(session, f"status:{ticket.ref}")
    reporters = len(await reporters_of(session, ticket))
    payload = {"ticket": ticket.ref, "reporters": reporters, "status": ticket.status, "note": note}
    return await enqueue_many(session, [("ticket_update", f"{ticket.ref}#status-{n}", name, payload)
                                        for name in names])


async def record_answer(session: AsyncSession, ticket: Ticket, text: str, actor: str, config: Any,
                        templates: Any) -> int:
    """Store an officer's answer on ``ticket`` and queue it to every reporter; returns reply rows queued.

    The caller commits. The ticket moves to ``diproses`` unless it is already further along.
    """
    text = text.strip()
    if not text:
        raise ValueError("an answer needs text")
    n = await next_number(session, f"answer:{ticket.ref}")
    queued, unreachable = await notify_reporters(session, ticket, config, templates, f"answer-{n}",
                                                 "answer", "answer_public", answer=text)
    now = utcnow()
    ticket.answer = text
    ticket.updated_at = now
    ticket.first_response_at = ticket.first_response_at or now
    if ticket.status in ("baru", "diterima"):
        ticket.status = "diproses"
    session.add(ticket)
    session.add(AuditEvent(at=now, actor=actor, action="answer", subject_type="ticket", subject_ref=ticket.ref,
                           detail={"number": n, "replies": queued, "unreachable": unreachable,
                                   "length": len(text), "status": ticket.status}))
    log.info("answer %d on %s by %s: %d replies queued, %d unreachable", n, ticket.ref, actor, queued,
             len(unreachable))
    return queued


async def set_status(session: AsyncSession, ticket: Ticket, status: str, note: str | None, actor: str,
                     config: Any, templates: Any) -> dict[str, Any]:
    """Change a ticket's status (audit event, ``ticket_update`` rows; ``closed`` replies on ``selesai``)."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    if ticket.status in ("dialihkan", "digabung"):
        raise ValueError("this ticket was reassigned to another agency or merged into another; work on that one")
    if status == "ditolak" and not (note or "").strip():
        raise ValueError("rejecting a ticket needs a note with the reason")
    previous, now = ticket.status, utcnow()
    ticket.status = status
    ticket.updated_at = now
    if status in ("selesai", "ditolak"):
        ticket.closed_at = ticket.closed_at or now
    else:
        if previous in ("selesai", "ditolak"):  # the reports count reopened tickets
            ticket.reopened = (ticket.reopened or 0) + 1
        ticket.closed_at = None
    if status != "baru" and ticket.first_response_at is None:  # the agency's first response (reports)
        ticket.first_response_at = now
    session.add(ticket)
    replies = 0
    if status == "selesai" and previous != "selesai":
        replies, _ = await notify_reporters(session, ticket, config, templates, "closed", "closed", "closed")
    elif status == "ditolak" and previous != "ditolak":  # the reason reaches every reporter
        n = await next_number(session, f"rejected:{ticket.ref}")
        replies, _ = await notify_reporters(session, ticket, config, templates, f"rejected-{n}", "rejected",
                                            "rejected_public", reason=(note or "").strip())
    elif previous in ("selesai", "ditolak") and status not in ("selesai", "ditolak"):  # reopened
        n = await next_number(session, f"reopened:{ticket.ref}")
        replies, _ = await notify_reporters(session, ticket, config, templates, f"reopened-{n}", "reopened",
                                            "reopened_public", note=(note or "").strip())
    updates = await ticket_update(session, ticket, config, note) if previous != status else 0
    session.add(AuditEvent(at=now, actor=actor, action="status", subject_type="ticket", subject_ref=ticket.ref,
                           detail={"from": previous, "to": status, "note": note, "replies": replies}))
    return {"ticket": ticket.ref, "from": previous, "status": status, "replies": replies, "updates": updates}


async def reassign(session: AsyncSession, ticket: Ticket, agency: str, reason: str, actor: str, config: Any,
                   templates: Any) -> Ticket:
    """Close ``ticket`` as ``dialihkan`` and open the case's ticket for ``agency`` (ValueError when not
    allowed); the new agency's forwarders (and LAPOR!) get a ``ticket``, the old one's a ``ticket_update``.

    The SLA deadline carries over: the citizen's wait does not restart because the Pemda routed it wrong.
    """
    target = config.agency(agency)
    if target is None:
        raise ValueError(f"no agency {agency!r}")
    if not reason.strip():
        raise ValueError("a reassignment needs a reason")
    if ticket.status in ("dialihkan", "digabung"):
        raise ValueError(f"ticket {ticket.ref} was already reassigned or merged")
    if agency == ticket.agency:
        raise ValueError(f"ticket {ticket.ref} already belongs to {agency}")
    clash = (await session.exec(select(Ticket).where(Ticket.case_id == ticket.case_id,
                                                     Ticket.agency == agency))).scalars().first()
    if clash is not None:
        raise ValueError(f"the case already has ticket {clash.ref} for {agency}")
    now = utcnow()
    new_id, new_ref = await free_ticket(session, now.year)
    new = Ticket(id=new_id, ref=new_ref, case_id=ticket.case_id, agency=agency, kind=ticket.kind,
                 status="baru", sla_due=ticket.sla_due, sla_extended=ticket.sla_extended, created_at=now,
                 updated_at=now)
    previous = ticket.status
    ticket.status, ticket.updated_at, ticket.closed_at = "dialihkan", now, ticket.closed_at or now
    session.add(ticket)
    session.add(new)
    await session.flush()
    session.add(AuditEvent(at=now, actor=actor, action="reassign", subject_type="ticket", subject_ref=ticket.ref,
                           detail={"from": previous, "agency_to": agency, "ticket_to": new.ref, "reason": reason}))
    session.add(AuditEvent(at=now, actor=actor, action="reassigned_from", subject_type="ticket",
                           subject_ref=new.ref, detail={"agency_from": ticket.agency, "ticket_from": ticket.ref,
                                                        "reason": reason}))
    await ticket_update(session, ticket, config, f"dialihkan ke {target.name} ({new.ref}): {reason}")
    payload = await _ticket_payload(session, new, target.name)
    await enqueue_many(session, [("ticket", new.ref, name, payload)
                                 for name in forwarders_for(config, "ticket", new)])
    log.info("ticket %s reassigned from %s to %s as %s by %s", ticket.ref, ticket.agency, agency, new.ref, actor)
    return new


async def free_ticket(session: AsyncSession, year: int) -> tuple[int, str]:
    """The next ticket id and ref from the shared counter, both unused. The router writes tickets with the
    counter's numbers as ids, so a ticket made here takes its id from the counter too: on PostgreSQL the
    table's own sequence never moved and would hand out an id the router already used."""
    for _ in range(1000):
        number = await next_number(session, "ticket")
        ref = ticket_ref(number, year)
        if (await session.exec(select(Ticket.id).where((Ticket.ref == ref) | (Ticket.id == number)))).first() is None:
            return number, ref
    raise ValueError("no free ticket number found; check the 'ticket' counter")


async def _ticket_payload(session: AsyncSession, ticket: Ticket, agency_name: str) -> dict[str, Any]:
    """The ``ticket`` item forwarders take (as the router writes it), from the case's first complaint."""
    members = await reporters_of(session, ticket)
    first = members[0][0] if members else None
    case = await session.get(Case, ticket.case_id)
    reporter = None
    if first is not None and not first.anonymous and first.reporter_id is not None:
        reporter = {"name": None, "email": None, "phone": None}
        q = select(Identity.channel, Identity.address, Identity.name).where(
            Identity.reporter_id == first.reporter_id).order_by(Identity.id)
        for channel, address, name in (await session.exec(q)).all():
            reporter["name"] = reporter["name"] or name
            if channel in ("email", "phone") and not reporter[channel]:
                reporter[channel] = address
    text = first.text if first else ""
    return {"ticket": ticket.ref, "case": case.ref if case else None, "complaint": first.ref if first else None,
            "kind": ticket.kind, "agency": ticket.agency, "agency_name": agency_name,
            "location": (first.location if first else None) or (case.location if case else None),
            "sla_due": ticket.sla_due.isoformat() if ticket.sla_due else None, "reporters": len(members),
            "subject": first.subject if first else None, "text": text, "text_masked": pii.mask(text),
            "channel": first.channel if first else None, "reporter": reporter,
            "anonymous": bool(first and first.anonymous), "confidential": bool(first and first.confidential),
            "created_at": (first.created_at if first and first.created_at else ticket.created_at).isoformat()}


class AnswerDesk:
    """This module as the officer API's ``omnichannel.protocols.AnswerDesk`` (named in the registry)."""

    set_status = staticmethod(set_status)
    record_answer = staticmethod(record_answer)
    reassign = staticmethod(reassign)

