"""A ticket's history for the officers' desk: complaints, the routing decision and its explanation, deliveries,
status changes, answers, notes, assignments and reassignments, each with who and when, oldest first.

A ticket opened by a reassignment carries the history of the ticket it came from.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from omnichannel.models import AuditEvent, Case, Complaint, OutboxRow, Ticket, User
from omnichannel.pii import mask

MAX_CHAIN = 10  # reassignments followed back


async def ticket_history(session: Any, ticket: Ticket, full: bool) -> list[dict[str, Any]]:
    """Every event of ``ticket`` (and the tickets it was reassigned from); ``full``: unmasked texts."""
    refs = await _chain(session, ticket)
    case = await session.get(Case, ticket.case_id)
    complaints = (await session.exec(select(Complaint).where(Complaint.case_id == ticket.case_id)
                                     .order_by(Complaint.id))).scalars().all()
    events: list[dict[str, Any]] = []
    for c in complaints:
        events.append({"at": _iso(c.created_at), "type": "complaint", "actor": f"warga:{c.channel}",
                       "detail": {"complaint": c.ref, "channel": c.channel,
                                  "text": (c.text if full and not c.anonymous else mask(c.text))[:280]}})
        if c.routed_at is not None and c.agency:
            events.append({"at": _iso(c.routed_at), "type": "routed", "actor": "router",
                           "detail": {"complaint": c.ref, "agency": c.agency, "kind": c.kind,
                                      "confidence": c.confidence, "dedup": c.dedup_level,
                                      "explanation": c.explanation}})
    subjects = [*refs, case.ref] if case else refs
    audit = (await session.exec(select(AuditEvent).where(AuditEvent.subject_ref.in_(subjects))
                                .order_by(AuditEvent.at, AuditEvent.id))).scalars().all()
    for a in audit:
        detail = dict(a.detail or {})
        if not full and a.action == "note" and "text" in detail:
            detail["text"] = mask(detail["text"])
        events.append({"at": _iso(a.at), "type": a.action, "actor": a.actor, "ticket": a.subject_ref,
                       "detail": detail})
    like = [OutboxRow.item_ref.like(f"{ref}#%") for ref in refs] + [
        OutboxRow.item_ref.like(f"{c.ref}#%") for c in complaints]
    outbox = (await session.exec(select(OutboxRow).where(or_(OutboxRow.item_ref.in_(refs), *like))
                                 .order_by(OutboxRow.created_at, OutboxRow.id))).scalars().all()
    for row in outbox:
        events.append({"at": _iso(row.created_at), "type": "delivery", "actor": "dispatcher",
                       "detail": {"item": row.item_type, "ref": row.item_ref, "destination": row.destination,
                                  "status": row.status, "attempts": row.attempts, "done_at": _iso(row.done_at),
                                  "purpose": (row.payload or {}).get("purpose"),
                                  "error": row.last_error[:200] if row.last_error else None}})
    names = await _names(session, {e["actor"] for e in events})
    for e in events:
        e["actor_name"] = names.get(e["actor"])
    events.sort(key=lambda e: e["at"] or "")
    return events


async def _chain(session: Any, ticket: Ticket) -> list[str]:
    """``ticket``'s ref and the refs it was reassigned from, newest first."""
    refs = [ticket.ref]
    for _ in range(MAX_CHAIN):
        q = select(AuditEvent.detail).where(AuditEvent.subject_ref == refs[-1],
                                            AuditEvent.action == "reassigned_from")
        detail = (await session.exec(q)).scalars().first()
        previous = (detail or {}).get("ticket_from")
        if not previous or previous in refs:
            break
        if (await session.exec(select(Ticket.id).where(Ticket.ref == previous))).first() is None:
            break
        refs.append(previous)
    return refs


async def _names(session: Any, actors: set[str]) -> dict[str, str]:
    logins = {a.removeprefix("user:"): a for a in actors if a.startswith("user:")}
    if not logins:
        return {}
    rows = (await session.exec(select(User.login, User.name).where(User.login.in_(sorted(logins))))).all()
    return {logins[login]: name for login, name in rows}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None
