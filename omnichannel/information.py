"""Information requests (UU 14/2008): the decision, the 7-day extension and the keberatan with its clock.

A request (``kind = informasi``) is answered within 10 working days, extendable once by 7 (Pasal 22).
The decision grants it (``dikabulkan``), grants part of it (``dikabulkan_sebagian``: the withheld part
needs a reason) or refuses it (``ditolak``, with the reason). The citizen may object (keberatan,
Pasal 35) within 30 working days; the PPID's superior answers within 30 working days (Pasal 36).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from omnichannel.models import AuditEvent, Complaint, Objection, Ticket
from omnichannel.sla import SlaConfig, WorkingCalendar
from omnichannel.status import owned_complaint
from omnichannel.types import utcnow

log = logging.getLogger(__name__)

OUTCOMES: dict[str, str] = {
    "dikabulkan": "dikabulkan seluruhnya",
    "dikabulkan_sebagian": "dikabulkan sebagian",
    "ditolak": "ditolak",
}

# why (part of) a request was refused: the exceptions of Pasal 17 and the two facts of Pasal 22 ayat 7
REFUSAL_REASONS: dict[str, str] = {
    "pasal17a": "Pasal 17 huruf a: menghambat proses penegakan hukum",
    "pasal17b": "Pasal 17 huruf b: mengganggu perlindungan HKI dan persaingan usaha yang sehat",
    "pasal17c": "Pasal 17 huruf c: membahayakan pertahanan dan keamanan negara",
    "pasal17d": "Pasal 17 huruf d: mengungkap kekayaan alam Indonesia",
    "pasal17e": "Pasal 17 huruf e: merugikan ketahanan ekonomi nasional",
    "pasal17f": "Pasal 17 huruf f: merugikan kepentingan hubungan luar negeri",
    "pasal17g": "Pasal 17 huruf g: mengungkap isi akta otentik atau wasiat seseorang",
    "pasal17h": "Pasal 17 huruf h: mengungkap rahasia pribadi",
    "pasal17i": "Pasal 17 huruf i: memorandum atau surat antar Badan Publik yang dirahasiakan",
    "pasal17j": "Pasal 17 huruf j: informasi yang tidak boleh diungkapkan berdasarkan Undang-Undang",
    "belum_dikuasai": "Informasi belum dikuasai",
    "belum_didokumentasikan": "Informasi belum didokumentasikan",
}

# the grounds of a keberatan, Pasal 35 ayat 1
OBJECTION_REASONS: dict[str, str] = {
    "a": "penolakan berdasarkan alasan pengecualian Pasal 17",
    "b": "tidak disediakannya informasi berkala (Pasal 9)",
    "c": "tidak ditanggapinya permintaan informasi",
    "d": "permintaan informasi ditanggapi tidak sebagaimana yang diminta",
    "e": "tidak dipenuhinya permintaan informasi",
    "f": "pengenaan biaya yang tidak wajar",
    "g": "penyampaian informasi yang melebihi waktu yang diatur",
}
OBJECTION_DAYS = 30
OBJECTION_OUTCOMES = ("dikabulkan", "ditolak")


def refusal_category(reason: str | None) -> str | None:
    """``dikecualikan`` (any Pasal 17 letter), ``belum_dikuasai`` or ``belum_didokumentasikan``."""
    if reason is None:
        return None
    return "dikecualikan" if reason.startswith("pasal17") else reason


def check_decision(outcome: str, reason: str | None) -> None:
    """Raise ValueError unless (outcome, reason) is a decision UU 14/2008 allows."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; use one of {', '.join(OUTCOMES)}")
    if outcome == "dikabulkan" and reason:
        raise ValueError("a request granted in full has no refusal reason")
    if outcome != "dikabulkan" and reason not in REFUSAL_REASONS:
        raise ValueError(f"{outcome} needs a reason: one of {', '.join(REFUSAL_REASONS)}")


def record_decision(ticket: Ticket, outcome: str, reason: str | None) -> None:
    """Store the decision on an information request (the caller closes the ticket and commits)."""
    if ticket.kind != "informasi":
        raise ValueError(f"ticket {ticket.ref} is a {ticket.kind}, not an information request")
    check_decision(outcome, reason)
    ticket.info_outcome = outcome
    ticket.refusal_reason = reason if outcome != "dikabulkan" else None


def calendar_of(config: Any) -> WorkingCalendar:
    """The config's working calendar."""
    return _calendar(config)


def _calendar(config: Any) -> WorkingCalendar:
    sla = getattr(config, "sla", None)
    return WorkingCalendar(sla if isinstance(sla, SlaConfig) else SlaConfig.model_validate(sla or {}))


async def extend_deadline(session: AsyncSession, ticket: Ticket, note: str, actor: str, config: Any,
                          now: datetime | None = None) -> datetime:
    """Extend an open ticket's deadline once by its kind's extension (informasi: 7 working days)."""
    calendar = _calendar(config)
    days = calendar.cfg.extension_days(ticket.kind)
    if days <= 0:
        raise ValueError(f"a {ticket.kind} deadline cannot be extended")
    if ticket.sla_extended:
        raise ValueError(f"the deadline of {ticket.ref} was already extended once")
    if ticket.closed_at is not None:
        raise ValueError(f"ticket {ticket.ref} is closed")
    if not (note or "").strip():
        raise ValueError("an extension needs a note with the reason")
    now = now or utcnow()
    start = ticket.received_at or ticket.created_at
    due = calendar.add_working_days(start, calendar.cfg.deadline_days(ticket.kind) + days)
    previous = ticket.sla_due
    ticket.sla_due, ticket.sla_extended, ticket.updated_at = due, True, now
    if ticket.overdue and due > now:
        ticket.overdue = False
    session.add(ticket)
    session.add(AuditEvent(at=now, actor=actor, action="extend", subject_type="ticket", subject_ref=ticket.ref,
                           detail={"from": previous.isoformat() if previous else None, "to": due.isoformat(),
                                   "days": days, "note": note}))
    return due


async def file_objection(session: AsyncSession, store: Any, ticket: Ticket, reason: str, text: str | None,
                         actor: str, config: Any, filed_at: datetime | None = None) -> Objection:
    """Record a keberatan against the decision on ``ticket``; the superior's deadline is 30 working days."""
    if ticket.kind != "informasi":
        raise ValueError(f"ticket {ticket.ref} is a {ticket.kind}, not an information request")
    if reason not in OBJECTION_REASONS:
        raise ValueError(f"unknown keberatan reason {reason!r}; use one of {', '.join(OBJECTION_REASONS)} "
                         "(Pasal 35 ayat 1)")
    filed_at = filed_at or utcnow()
    number = await store.allocate("objection", session=session)
    ref = f"KEB-{filed_at.year}-{number:06d}"
    objection = Objection(ref=ref, ticket_id=ticket.id, reason=reason, text=(text or "").strip() or None,
                          filed_at=filed_at, due_at=_calendar(config).add_working_days(filed_at, OBJECTION_DAYS),
                          actor=actor, created_at=utcnow())
    session.add(objection)
    session.add(AuditEvent(at=filed_at, actor=actor, action="keberatan", subject_type="ticket",
                           subject_ref=ticket.ref, detail={"objection": ref, "reason": reason}))
    log.info("keberatan %s filed against %s (reason %s) by %s", ref, ticket.ref, reason, actor)
    return objection


async def answer_objection(session: AsyncSession, ref: str, outcome: str, answer: str, actor: str,
                           answered_at: datetime | None = None) -> Objection:
    """Record the superior's answer to keberatan ``ref``."""
    if outcome not in OBJECTION_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; use one of {', '.join(OBJECTION_OUTCOMES)}")
    if not (answer or "").strip():
        raise ValueError("the answer to a keberatan needs text")
    objection = (await session.exec(select(Objection).where(Objection.ref == ref.upper()))).scalars().first()
    if objection is None:
        raise LookupError(f"no keberatan {ref}")
    if objection.answered_at is not None:
        raise ValueError(f"keberatan {objection.ref} was already answered")
    objection.answered_at = answered_at or utcnow()
    objection.answer, objection.outcome = answer.strip(), outcome
    session.add(objection)
    session.add(AuditEvent(at=objection.answered_at, actor=actor, action="keberatan_answer",
                           subject_type="objection", subject_ref=objection.ref, detail={"outcome": outcome}))
    return objection


# a citizen files a keberatan within 30 working days of finding its ground (Pasal 36 ayat 1): the
# decision, or, for a request never answered (c) or answered late (g), the deadline that passed
FILING_DAYS = 30
UNANSWERED_REASONS = ("c", "g")
CLOSED_AWAY = ("dialihkan", "digabung")  # a ticket that moved to another agency or case


class ObjectionRefused(ValueError):
    """Why a citizen cannot file a keberatan now: an HTTP status, a code and a reason in English."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.code = status, code


def filing_window(ticket: Ticket, calendar: WorkingCalendar, now: datetime) -> tuple[datetime, tuple[str, ...]]:
    """Until when a keberatan against ``ticket`` may be filed, and on which grounds (ObjectionRefused
    when none may be now)."""
    if ticket.kind != "informasi":
        raise ObjectionRefused(409, "not_information_request",
                               f"{ticket.ref} is a {ticket.kind}, not an information request")
    decided = ticket.closed_at is not None and ticket.closed_at <= now
    if decided:
        start, reasons = ticket.closed_at, tuple(OBJECTION_REASONS)
    elif ticket.sla_due is not None and ticket.sla_due < now:
        start, reasons = ticket.sla_due, UNANSWERED_REASONS  # not answered in time: c or g
    else:
        raise ObjectionRefused(409, "not_decided", "the request is not decided yet and its deadline has not passed")
    assert start is not None
    until = calendar.add_working_days(start, FILING_DAYS)
    if now > until:
        raise ObjectionRefused(422, "too_late", f"the {FILING_DAYS} working days to object ended on "
                                                f"{until.isoformat()}")
    return until, reasons


async def request_ticket(session: AsyncSession, case_id: int | None) -> Ticket | None:
    """The information request's ticket of a case (the one still with an agency, else the first)."""
    if case_id is None:
        return None
    tickets = list((await session.exec(select(Ticket).where(Ticket.case_id == case_id).order_by(Ticket.id)))
                   .scalars().all())
    live = [t for t in tickets if t.status not in CLOSED_AWAY]
    return (live or tickets or [None])[0]


async def objections_of(session: AsyncSession, ticket_id: int) -> list[Objection]:
    """Every keberatan filed against a ticket, oldest first."""
    q = select(Objection).where(Objection.ticket_id == ticket_id).order_by(Objection.id)
    return list((await session.exec(q)).scalars().all())


async def citizen_objection(store: Any, config: Any, templates: Any, ref: str, access: str, reason: str,
                            text: str | None, now: datetime | None = None) -> dict[str, Any]:
    """A citizen's own keberatan against the decision on their information request ``ref`` (a complaint
    ref), proven by the access key of the web intake. Records it for the PPID's superior with the
    30-working-day deadline and answers the acknowledgement (template ``keberatan_ack``).

    ObjectionRefused: 404 unknown ref or wrong key, 409 not an information request / not decided yet /
    a keberatan still open, 422 bad reason or text / too late.
    """
    now = now or utcnow()
    if reason not in OBJECTION_REASONS:
        raise ObjectionRefused(422, "invalid", f"unknown keberatan reason {reason!r}; use one of "
                                               f"{', '.join(OBJECTION_REASONS)} (Pasal 35 ayat 1)")
    if text is not None and len(text) > 4000:
        raise ObjectionRefused(422, "invalid", "the text is limited to 4000 characters")
    calendar = _calendar(config)
    async with store.session() as session:
        complaint = await owned_complaint(session, ref, access)
        if complaint is None:
            raise ObjectionRefused(404, "not_found", f"complaint {ref.upper()} not found with this access key (akses)")
        main = complaint
        if complaint.status == "merged" and complaint.duplicate_of:
            main = await session.get(Complaint, complaint.duplicate_of) or complaint
        ticket = await request_ticket(session, main.case_id)
        if ticket is None:
            raise ObjectionRefused(409, "not_decided", "the request has no ticket yet")
        until, reasons = filing_window(ticket, calendar, now)
        if reason not in reasons:
            raise ObjectionRefused(422, "invalid", f"before a decision only reasons {' or '.join(reasons)} apply "
                                                   "(not answered, or answered late)")
        pending = [o for o in await objections_of(session, ticket.id) if o.answered_at is None]
        if pending:
            raise ObjectionRefused(409, "already_filed", f"keberatan {pending[0].ref} is still waiting for its answer")
        objection = await file_objection(session, store, ticket, reason, text, f"warga:{complaint.ref}", config, now)
        await session.commit()
        zone = calendar.zone
        message = templates("keberatan_ack", ref=complaint.ref, keberatan=objection.ref,
                            reason=OBJECTION_REASONS[reason],
                            filed_at=objection.filed_at.astimezone(zone).strftime("%d-%m-%Y %H:%M"),
                            due_at=objection.due_at.astimezone(zone).strftime("%d-%m-%Y"))
        return {"keberatan": objection.ref, "complaint": complaint.ref, "ticket": ticket.ref, "reason": reason,
                "reason_text": OBJECTION_REASONS[reason], "filed_at": objection.filed_at.isoformat(),
                "due_at": objection.due_at.isoformat(), "filing_deadline": until.isoformat(), "message": message}
