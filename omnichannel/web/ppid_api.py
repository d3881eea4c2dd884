"""The PPID's part of the officer API: the decision on an information request, the extension, keberatan.

Same bearer tokens, login sessions and rules as ``omnichannel.web.officer_api`` (an agency's officer acts on
its own tickets, a coordinator on all). Errors are JSON ``{"error", "reason"}``.

- ``POST /api/v1/tickets/{ref}/decision`` ``{"outcome": "dikabulkan|dikabulkan_sebagian|ditolak",
  "reason": "pasal17a..pasal17j|belum_dikuasai|belum_didokumentasikan", "note"}`` records the decision and
  closes the request (``selesai``; ``ditolak`` when refused), telling every requester as a status change does.
- ``POST /api/v1/tickets/{ref}/extend`` ``{"note"}``: the one extension (informasi: 7 working days).
- ``POST /api/v1/tickets/{ref}/keberatan`` ``{"reason": "a".."g", "text", "filed_at"?}``: a citizen's keberatan,
  recorded by the PPID (the superior answers within 30 working days).
- ``POST /api/v1/keberatan/{ref}/answer`` ``{"outcome": "dikabulkan|ditolak", "answer"}``.
- ``GET /api/v1/keberatan?open=true``: the keberatan against the caller's agencies' requests (filed by a
  citizen from the status page or API, ``omnichannel.web.keberatan``, or recorded by the PPID), oldest
  deadline first, with the 30-working-day deadline and whether it passed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from omnichannel import information
from omnichannel.models import Objection, Ticket
from omnichannel.types import utcnow
from omnichannel.web import accounts
from omnichannel.web.officer_api import OfficerApi, _error, _wrap


class PpidApi(OfficerApi):
    """Handlers for information requests and keberatan."""

    async def post_decision(self, request: web.Request) -> web.Response:
        """Record the decision on an information request and close it."""
        caller = self._auth(request)
        body = await self._body(request)
        outcome, reason, note = body.get("outcome"), body.get("reason"), body.get("note")
        if not isinstance(outcome, str) or any(v is not None and not isinstance(v, str) for v in (reason, note)):
            return _error(400, "bad_request", "outcome must be a string, reason and note strings or null")
        answers = self._answers()
        async with self.store.session() as session:
            ticket = await self._ticket(session, request.match_info["ref"], caller)
            try:
                information.record_decision(ticket, outcome, reason)
                text = (note or "").strip() or (information.REFUSAL_REASONS.get(reason or "", "")
                                                if outcome != "dikabulkan" else "")
                status = "ditolak" if outcome == "ditolak" else "selesai"
                result = await answers.set_status(session, ticket, status, text or None, caller.actor,
                                                  self.config, self.templates)
            except ValueError as exc:
                return _error(422, "invalid", str(exc))
            await session.commit()
        return web.json_response({**result, "outcome": outcome, "reason": reason})

    async def post_extend(self, request: web.Request) -> web.Response:
        """Extend the deadline once."""
        caller = self._auth(request)
        body = await self._body(request)
        note = body.get("note")
        if not isinstance(note, str):
            return _error(400, "bad_request", "note must be a string with the reason")
        async with self.store.session() as session:
            ticket = await self._ticket(session, request.match_info["ref"], caller)
            try:
                due = await information.extend_deadline(session, ticket, note, caller.actor, self.config)
            except ValueError as exc:
                return _error(422, "invalid", str(exc))
            await session.commit()
        return web.json_response({"ticket": ticket.ref, "sla_due": due.isoformat(), "sla_extended": True})

    async def post_objection(self, request: web.Request) -> web.Response:
        """Record a keberatan against the decision on an information request."""
        caller = self._auth(request)
        body = await self._body(request)
        reason, text, filed = body.get("reason"), body.get("text"), body.get("filed_at")
        if not isinstance(reason, str) or any(v is not None and not isinstance(v, str) for v in (text, filed)):
            return _error(400, "bad_request", "reason must be a string, text and filed_at strings or null")
        filed_at = None
        if filed:
            try:
                filed_at = datetime.fromisoformat(filed)
            except ValueError:
                return _error(400, "bad_request", "filed_at must be an ISO 8601 time with its offset")
            if filed_at.tzinfo is None:
                return _error(400, "bad_request", "filed_at needs its UTC offset, e.g. +07:00")
        async with self.store.session() as session:
            ticket = await self._ticket(session, request.match_info["ref"], caller)
            try:
                objection = await information.file_objection(session, self.store, ticket, reason, text, caller.actor,
                                                             self.config, filed_at)
            except ValueError as exc:
                return _error(422, "invalid", str(exc))
            await session.commit()
        return web.json_response({"keberatan": objection.ref, "ticket": ticket.ref, "reason": objection.reason,
                                  "filed_at": objection.filed_at.isoformat(), "due_at": objection.due_at.isoformat()},
                                 status=201)

    async def list_objections(self, request: web.Request) -> web.Response:
        """The keberatan the caller answers for (``?open=true``: only those still unanswered)."""
        caller = self._auth(request)
        only_open = request.query.get("open", "").lower() in ("1", "true", "ya")
        q = (select(Objection, Ticket.ref, Ticket.agency).join(Ticket, Ticket.id == Objection.ticket_id)
             .order_by(Objection.due_at, Objection.id).limit(500))
        if only_open:
            q = q.where(Objection.answered_at.is_(None))
        if not caller.coordinator:
            q = q.where(Ticket.agency.in_(sorted(caller.agencies) or [""]))
        now = utcnow()
        async with self.store.session() as session:
            rows = (await session.exec(q)).all()
        return web.json_response({"keberatan": [
            {"ref": o.ref, "ticket": ref, "agency": agency, "reason": o.reason,
             "reason_text": information.OBJECTION_REASONS.get(o.reason), "text": o.text,
             "filed_by": "citizen" if o.actor.startswith("warga:") else "officer",
             "filed_at": o.filed_at.isoformat(), "due_at": o.due_at.isoformat(),
             "overdue": o.answered_at is None and o.due_at < now,
             "answered_at": o.answered_at.isoformat() if o.answered_at else None, "outcome": o.outcome}
            for o, ref, agency in rows]})

    async def post_objection_answer(self, request: web.Request) -> web.Response:
        """Record the superior's answer to a keberatan."""
        caller = self._auth(request)
        body = await self._body(request)
        outcome, answer = body.get("outcome"), body.get("answer")
        if not isinstance(outcome, str) or not isinstance(answer, str):
            return _error(400, "bad_request", "outcome and answer must be strings")
        ref = request.match_info["ref"].upper()
        async with self.store.session() as session:
            q = select(Ticket.agency).join(Objection, Objection.ticket_id == Ticket.id).where(Objection.ref == ref)
            agency = (await session.exec(q)).scalars().first()
            if agency is None or not (caller.coordinator or caller.owns(agency)):
                return _error(404, "not_found", f"no keberatan {ref} for your agency")
            try:
                objection = await information.answer_objection(session, ref, outcome, answer, caller.actor)
            except ValueError as exc:
                return _error(422, "invalid", str(exc))
            await session.commit()
        return web.json_response({"keberatan": objection.ref, "outcome": objection.outcome,
                                  "answered_at": objection.answered_at.isoformat(),
                                  "within_30_working_days": objection.answered_at <= objection.due_at})


def routes(store: Any, config: Any, templates: Any, answers: Any = None) -> list[web.RouteDef]:
    """The PPID routes, for the daemon's one aiohttp app: bearer tokens, or an officer's login session
    (``omnichannel.web.accounts``: CSRF checked, the read-only ``pimpinan`` refused)."""
    api = PpidApi(store, config, templates, answers)
    desk = accounts.Accounts(store, config)
    return [
        web.post("/api/v1/tickets/{ref}/decision", _wrap(api.post_decision, desk)),
        web.post("/api/v1/tickets/{ref}/extend", _wrap(api.post_extend, desk)),
        web.post("/api/v1/tickets/{ref}/keberatan", _wrap(api.post_objection, desk)),
        web.post("/api/v1/keberatan/{ref}/answer", _wrap(api.post_objection_answer, desk)),
        web.get("/api/v1/keberatan", _wrap(api.list_objections, desk)),
    ]
