"""Officers' corrections of the router, recorded for it to learn from: reassignments, merges and splits.

Each correction is one ``corrections`` row: kind, the ticket and the complaint whose text was routed,
agency from and to, who, when and why. The router's learning reads these rows; this module only writes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from omnichannel.models import Case, Complaint, Correction, Ticket
from omnichannel.protocols import AnswerDesk


async def reassign(session: Any, answers: AnswerDesk, ticket: Ticket, agency: str, reason: str, actor: str,
                   config: Any, templates: Any) -> tuple[Ticket, Correction]:
    """Move ``ticket`` to ``agency`` through the answer desk and record the correction (the caller commits)."""
    old_agency = ticket.agency
    new = await answers.reassign(session, ticket, agency, reason, actor, config, templates)
    first = (await session.exec(select(Complaint.ref).where(Complaint.case_id == ticket.case_id)
                                .order_by(Complaint.id).limit(1))).scalars().first()
    case = await session.get(Case, ticket.case_id)
    row = Correction(kind="reassign", ticket_ref=ticket.ref, case_ref=case.ref if case else None,
                     complaint_ref=first, agency_from=old_agency, agency_to=agency, actor=actor, reason=reason,
                     detail={"new_ticket": new.ref, "kind": ticket.kind})
    session.add(row)
    return new, row


async def merge(session: Any, answers: AnswerDesk, source: Case, target: Case, actor: str, config: Any,
                templates: Any) -> dict[str, Any]:
    """Merge case ``source`` into ``target`` through the answer desk and record the correction."""
    first = await _first_complaint(session, source.id)
    result = await answers.merge_cases(session, source, target, actor, config, templates)
    session.add(Correction(kind="merge", case_ref=source.ref, complaint_ref=first, actor=actor,
                           detail={"into": target.ref, **result}))
    return result


async def split(session: Any, answers: AnswerDesk, case: Case, refs: list[str], actor: str, config: Any,
                templates: Any) -> dict[str, Any]:
    """Split complaints ``refs`` out of ``case`` through the answer desk and record the correction."""
    result = await answers.split_case(session, case, refs, actor, config, templates)
    session.add(Correction(kind="split", case_ref=case.ref, complaint_ref=result["complaints"][0], actor=actor,
                           detail=result))
    return result


async def _first_complaint(session: Any, case_id: int) -> str | None:
    return (await session.exec(select(Complaint.ref).where(Complaint.case_id == case_id)
                               .order_by(Complaint.id).limit(1))).scalars().first()
