"""The officers' queue and desk actions: every visible ticket with filters and search, assignment, internal
notes, canned replies, reassignment to another agency.

Access is the caller's (``officer_api.Caller``): an officer sees the tickets of their agencies only (another
agency's ticket answers 404, its queue or replies 403), a ppid information requests only, a coordinator
every agency. Every action is an audit event with the person (or token) that took it.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import and_, column, func, or_, select, table, text

from omnichannel import corrections
from omnichannel.models import AuditEvent, CannedReply, Case, Complaint, Ticket, User
from omnichannel.pii import mask
from omnichannel.types import utcnow
from omnichannel.web.history import ticket_history
from omnichannel.web.officer_api import _Reply

log = logging.getLogger(__name__)

CLOSED = ("selesai", "ditolak", "dialihkan", "digabung")
DUE_SOON = timedelta(days=1)
MAX_LIMIT = 200
MAX_NOTE = 4000
SORTS = {"sla_due": (Ticket.sla_due, False), "-sla_due": (Ticket.sla_due, True),
         "created_at": (Ticket.created_at, False), "-created_at": (Ticket.created_at, True),
         "updated_at": (Ticket.updated_at, False), "-updated_at": (Ticket.updated_at, True)}
PLACEHOLDERS = ("ref", "nama_instansi", "batas_waktu")
_WORD = re.compile(r"\w+", re.UNICODE)


class Queue:
    """Handlers on top of the officer API (its auth, ticket lookup and error replies)."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.store = api.store
        self.config = api.config

    # -- the queue --------------------------------------------------------------------------------------
    async def list_tickets(self, request: web.Request) -> web.Response:
        """``GET /api/v1/tickets``: status, agency, kind, channel, overdue, assigned (me|none|login), q, sort,
        limit, offset."""
        caller = self.api._auth(request)
        query = request.query
        try:
            limit = min(MAX_LIMIT, max(1, int(query.get("limit", "50"))))
            offset = max(0, int(query.get("offset", "0")))
        except ValueError:
            return _error(400, "bad_request", "limit and offset must be integers")
        sort = query.get("sort", "sla_due")
        if sort not in SORTS:
            return _error(400, "bad_request", f"sort must be one of {', '.join(SORTS)}")
        cond: list[Any] = []
        agency = query.get("agency", "").strip()
        if agency and agency != "semua":
            if not (caller.coordinator or caller.owns(agency)):
                return _error(403, "forbidden", f"you do not act for agency {agency}")
            cond.append(Ticket.agency == agency)
        elif not caller.coordinator:
            if not caller.agencies:
                return _error(403, "forbidden", "this account reads no ticket queue")
            cond.append(Ticket.agency.in_(sorted(caller.agencies)))
        if caller.kinds is not None:
            cond.append(Ticket.kind.in_(sorted(caller.kinds)))
        if query.get("status"):
            cond.append(Ticket.status.in_([s.strip() for s in query["status"].split(",") if s.strip()]))
        if query.get("kind"):
            cond.append(Ticket.kind.in_([s.strip() for s in query["kind"].split(",") if s.strip()]))
        now = utcnow()
        overdue_expr = or_(Ticket.overdue.is_(True),
                           and_(Ticket.sla_due.is_not(None), Ticket.sla_due < now, Ticket.status.not_in(CLOSED)))
        overdue = query.get("overdue", "").lower()
        if overdue in ("1", "true", "yes"):
            cond.append(overdue_expr)
            cond.append(Ticket.status.not_in(CLOSED))
        elif overdue in ("0", "false", "no"):
            cond.append(~overdue_expr)
        elif overdue:
            return _error(400, "bad_request", "overdue must be true or false")
        assigned = query.get("assigned", "").strip().lower()
        if assigned == "me":
            if caller.login is None:
                return _error(400, "bad_request", "assigned=me needs a logged-in person, not a token")
            cond.append(Ticket.assigned_to == caller.login)
        elif assigned == "none":
            cond.append(Ticket.assigned_to.is_(None))
        elif assigned:
            cond.append(Ticket.assigned_to == assigned)
        if query.get("channel"):
            channels = [s.strip() for s in query["channel"].split(",") if s.strip()]
            cond.append(Ticket.case_id.in_(select(Complaint.case_id).where(Complaint.channel.in_(channels))))
        q = query.get("q", "").strip()
        async with self.store.session() as session:
            if q:
                matched = await self._search(session, q)
                if matched is None:
                    return _error(400, "bad_request", "q needs at least one word")
                cond.append(Ticket.case_id.in_(matched))
            total = (await session.exec(select(func.count()).select_from(Ticket).where(*cond))).scalar_one()
            column, desc = SORTS[sort]
            order = [column.is_(None), column.desc() if desc else column, Ticket.id]
            # sort narrow rows (ids only), then read the page's tickets and cases: sorting tens of thousands
            # of whole ticket + case rows was most of a large queue's time
            page = list((await session.exec(select(Ticket.id).where(*cond).order_by(*order).limit(limit)
                                             .offset(offset))).scalars().all())
            found = {t.id: (t, c) for t, c in (await session.exec(
                select(Ticket, Case).join(Case, Case.id == Ticket.case_id).where(Ticket.id.in_(page)))).all()} \
                if page else {}
            rows = [found[i] for i in page if i in found]
            case_ids = [c.id for _, c in rows]
            channels_of = await self._channels(session, case_ids)
            first_lines = await self._first_lines(session, [c.id for _, c in rows if not c.title])
            names = await self._names(session, {t.assigned_to for t, _ in rows if t.assigned_to})
        tickets = []
        for t, c in rows:
            late = bool(t.status not in CLOSED and (t.overdue or (t.sla_due and t.sla_due < now)))
            soon = bool(not late and t.status not in CLOSED and t.sla_due and t.sla_due - now < DUE_SOON)
            title = c.title or first_lines.get(c.id) or ""
            tickets.append({
                "ref": t.ref, "case": c.ref, "kind": t.kind, "status": t.status, "agency": t.agency,
                "title": mask(title) if title else None, "location": _place(c.location),
                "channels": channels_of.get(c.id, []), "reporters": c.reporter_count,
                "complaints": c.complaint_count, "created_at": _iso(t.created_at), "updated_at": _iso(t.updated_at),
                "sla_due": _iso(t.sla_due), "overdue": late, "due_soon": soon, "assigned_to": t.assigned_to,
                "assignee_name": names.get(t.assigned_to) if t.assigned_to else None})
        nxt = offset + len(tickets) if offset + len(tickets) < total else None
        return web.json_response({"total": total, "limit": limit, "offset": offset, "next_offset": nxt,
                                  "sort": sort, "tickets": tickets})

    async def _search(self, session: Any, q: str) -> Any:
        """Case ids whose complaints match every word of ``q`` (FTS5 on SQLite, tsvector on PostgreSQL)."""
        words = _WORD.findall(q.lower())[:12]
        if not words:
            return None
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        if dialect == "postgresql":  # complaints_search: filled after each commit (omnichannel.search)
            tsq = func.to_tsquery("simple", " & ".join(f"{w}:*" for w in words))
            ids = select(column("complaint_id")).select_from(table("complaints_search")).where(
                column("doc").op("@@")(tsq))
            return select(Complaint.case_id).where(Complaint.id.in_(ids), Complaint.case_id.is_not(None))
        match = " ".join(f'"{w}"*' for w in words)  # quoted: an officer's input is never FTS5 syntax
        ids = select(text("rowid")).select_from(text("complaints_search")).where(
            text("complaints_search MATCH :match").bindparams(match=match))
        return select(Complaint.case_id).where(Complaint.id.in_(ids), Complaint.case_id.is_not(None))

    @staticmethod
    async def _channels(session: Any, case_ids: list[int]) -> dict[int, list[str]]:
        if not case_ids:
            return {}
        out: dict[int, list[str]] = {}
        q = select(Complaint.case_id, Complaint.channel).where(Complaint.case_id.in_(case_ids)).distinct()
        for case_id, channel in (await session.exec(q)).all():
            out.setdefault(case_id, []).append(channel)
        return {k: sorted(v) for k, v in out.items()}

    @staticmethod
    async def _first_lines(session: Any, case_ids: list[int]) -> dict[int, str]:
        if not case_ids:
            return {}
        first = select(func.min(Complaint.id)).where(Complaint.case_id.in_(case_ids)).group_by(Complaint.case_id)
        q = select(Complaint.case_id, Complaint.subject, Complaint.text).where(Complaint.id.in_(first))
        return {cid: _first_line(subject, body) for cid, subject, body in (await session.exec(q)).all()}

    @staticmethod
    async def _names(session: Any, logins: set[str]) -> dict[str, str]:
        if not logins:
            return {}
        q = select(User.login, User.name).where(User.login.in_(sorted(logins)))
        return dict((await session.exec(q)).all())

    # -- one ticket -------------------------------------------------------------------------------------
    async def history(self, request: web.Request) -> web.Response:
        """``GET /api/v1/tickets/{ref}/history``: everything that happened, oldest first, with who and when."""
        caller = self.api._auth(request)
        async with self.store.session() as session:
            ticket = await self.api._ticket(session, request.match_info["ref"], caller)
            events = await ticket_history(session, ticket, full=caller.owns(ticket.agency))
        return web.json_response({"ticket": ticket.ref, "events": events})

    async def assign(self, request: web.Request) -> web.Response:
        """``POST /api/v1/tickets/{ref}/assign`` ``{"user": login | null}``: who works on it."""
        caller = self.api._auth(request)
        body = await self.api._body(request)
        login = body.get("user")
        if login is not None and (not isinstance(login, str) or not login.strip()):
            return _error(422, "invalid", "user must be a login or null")
        async with self.store.session() as session:
            ticket = await self.api._ticket(session, request.match_info["ref"], caller)
            if login is not None:
                login = login.strip().lower()
                user = (await session.exec(select(User).where(User.login == login))).scalars().first()
                if user is None or user.disabled:
                    return _error(422, "invalid", f"no active account {login!r}")
                from omnichannel.web.accounts import caller_for

                if not caller_for(user).sees(ticket.agency, ticket.kind):
                    return _error(422, "invalid", f"{login} cannot work on {ticket.agency}'s tickets")
            previous, ticket.assigned_to = ticket.assigned_to, login
            ticket.updated_at = utcnow()
            session.add(ticket)
            session.add(AuditEvent(actor=caller.actor, action="assign", subject_type="ticket",
                                   subject_ref=ticket.ref, detail={"from": previous, "to": login}))
            await session.commit()
        log.info("ticket %s assigned to %s by %s", ticket.ref, login or "(nobody)", caller.actor)
        return web.json_response({"ticket": ticket.ref, "assigned_to": login, "previous": previous})

    async def assignees(self, request: web.Request) -> web.Response:
        """``GET /api/v1/tickets/{ref}/assignees``: active accounts that may work on the ticket (for a picker)."""
        caller = self.api._auth(request)
        from omnichannel.web.accounts import caller_for

        async with self.store.session() as session:
            ticket = await self.api._ticket(session, request.match_info["ref"], caller)
            people = (await session.exec(select(User).where(User.disabled.is_(False))
                                         .order_by(User.name))).scalars().all()
        return web.json_response({"ticket": ticket.ref, "assigned_to": ticket.assigned_to, "people": [
            {"login": u.login, "name": u.name, "role": u.role} for u in people
            if caller_for(u).sees(ticket.agency, ticket.kind)]})

    async def add_note(self, request: web.Request) -> web.Response:
        """``POST /api/v1/tickets/{ref}/notes`` ``{"text"}``: an internal note, never sent to a citizen."""
        caller = self.api._auth(request)
        body = await self.api._body(request)
        note = body.get("text")
        if not isinstance(note, str) or not note.strip() or len(note) > MAX_NOTE:
            return _error(422, "invalid", f"text must be a non-empty string of at most {MAX_NOTE} characters")
        async with self.store.session() as session:
            ticket = await self.api._ticket(session, request.match_info["ref"], caller)
            event = AuditEvent(actor=caller.actor, action="note", subject_type="ticket", subject_ref=ticket.ref,
                               detail={"text": note.strip()})
            session.add(event)
            await session.commit()
            at = event.at
        return web.json_response({"ticket": ticket.ref, "note": note.strip(), "by": caller.actor, "at": _iso(at)},
                                 status=201)

    async def reassign(self, request: web.Request) -> web.Response:
        """``POST /api/v1/tickets/{ref}/reassign`` ``{"agency", "reason"}`` (coordinators and admins)."""
        caller = self.api._auth(request)
        if not caller.coordinator or caller.kinds is not None:
            return _error(403, "forbidden", "only a coordinator reassigns tickets to another agency")
        answers = self.api._answers()
        body = await self.api._body(request)
        agency, reason = body.get("agency"), body.get("reason")
        if not isinstance(agency, str) or not isinstance(reason, str) or not reason.strip():
            return _error(422, "invalid", "agency and a non-empty reason are required")
        async with self.store.session() as session:
            ticket = await self.api._ticket(session, request.match_info["ref"], caller)
            try:
                new, _ = await corrections.reassign(session, answers, ticket, agency.strip(), reason.strip(),
                                                    caller.actor, self.config, self.api.templates)
            except ValueError as exc:
                return _error(422, "invalid", str(exc))
            await session.commit()
        return web.json_response({"ticket": ticket.ref, "status": "dialihkan", "new_ticket": new.ref,
                                  "agency": new.agency}, status=201)

    # -- canned replies -------------------------------------------------------------------------------------
    def _agency_access(self, caller: Any, code: str, write: bool = False) -> None:
        if self.config.agency(code) is None:
            raise _Reply(_error(404, "not_found", f"no agency {code}"))
        if write and caller.role != "admin":
            raise _Reply(_error(403, "forbidden", "only an admin edits canned replies"))
        if not (caller.coordinator or caller.owns(code)) or caller.kinds == frozenset():
            raise _Reply(_error(403, "forbidden", f"you do not act for agency {code}"))

    async def list_replies(self, request: web.Request) -> web.Response:
        """``GET /api/v1/agencies/{code}/replies``: the agency's canned replies."""
        caller = self.api._auth(request)
        code = request.match_info["code"]
        self._agency_access(caller, code)
        async with self.store.session() as session:
            rows = (await session.exec(select(CannedReply).where(CannedReply.agency == code)
                                       .order_by(CannedReply.name))).scalars().all()
        return web.json_response({"agency": code, "placeholders": list(PLACEHOLDERS),
                                  "replies": [_reply(r) for r in rows]})

    async def put_reply(self, request: web.Request) -> web.Response:
        """``PUT /api/v1/agencies/{code}/replies/{name}`` ``{"text"}`` (admins): create or replace."""
        caller = self.api._auth(request)
        code, name = request.match_info["code"], request.match_info["name"].strip()
        self._agency_access(caller, code, write=True)
        body = await self.api._body(request)
        reply_text = body.get("text")
        if not name or len(name) > 100 or not isinstance(reply_text, str) or not reply_text.strip():
            return _error(422, "invalid", "a name of at most 100 characters and a non-empty text are required")
        async with self.store.session() as session:
            row = (await session.exec(select(CannedReply).where(CannedReply.agency == code,
                                                                CannedReply.name == name))).scalars().first()
            created = row is None
            row = row or CannedReply(agency=code, name=name, text="", updated_by=caller.actor)
            row.text, row.updated_by, row.updated_at = reply_text.strip(), caller.actor, utcnow()
            session.add(row)
            session.add(AuditEvent(actor=caller.actor, action="canned_reply", subject_type="agency",
                                   subject_ref=code, detail={"name": name, "created": created}))
            await session.commit()
            out = _reply(row)
        return web.json_response(out, status=201 if created else 200)

    async def delete_reply(self, request: web.Request) -> web.Response:
        """``DELETE /api/v1/agencies/{code}/replies/{name}`` (admins)."""
        caller = self.api._auth(request)
        code, name = request.match_info["code"], request.match_info["name"]
        self._agency_access(caller, code, write=True)
        async with self.store.session() as session:
            row = (await session.exec(select(CannedReply).where(CannedReply.agency == code,
                                                                CannedReply.name == name))).scalars().first()
            if row is None:
                return _error(404, "not_found", f"no canned reply {name!r} for {code}")
            await session.delete(row)
            session.add(AuditEvent(actor=caller.actor, action="canned_reply_delete", subject_type="agency",
                                   subject_ref=code, detail={"name": name}))
            await session.commit()
        return web.json_response({"deleted": name})

    async def ticket_replies(self, request: web.Request) -> web.Response:
        """``GET /api/v1/tickets/{ref}/replies``: the owning agency's canned replies filled for this ticket."""
        caller = self.api._auth(request)
        async with self.store.session() as session:
            ticket = await self.api._ticket(session, request.match_info["ref"], caller)
            rows = (await session.exec(select(CannedReply).where(CannedReply.agency == ticket.agency)
                                       .order_by(CannedReply.name))).scalars().all()
        agency = self.config.agency(ticket.agency)
        values = {"ref": ticket.ref, "nama_instansi": agency.name if agency else ticket.agency,
                  "batas_waktu": _jakarta(ticket.sla_due)}
        return web.json_response({"ticket": ticket.ref, "replies": [
            {"name": r.name, "text": _fill(r.text, values)} for r in rows]})


def _first_line(subject: str | None, body: str | None) -> str:
    if subject and subject.strip():
        return subject.strip()[:140]
    lines = [line.strip() for line in (body or "").splitlines() if line.strip()]
    return lines[0][:140] if lines else ""


def _fill(template: str, values: dict[str, str]) -> str:
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


def _jakarta(value: Any) -> str:
    if value is None:
        return "-"
    from zoneinfo import ZoneInfo

    local = value.astimezone(ZoneInfo("Asia/Jakarta"))
    months = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
              "Oktober", "November", "Desember")
    return f"{local.day} {months[local.month - 1]} {local.year} pukul {local:%H.%M} WIB"


def _reply(row: CannedReply) -> dict[str, Any]:
    return {"agency": row.agency, "name": row.name, "text": row.text, "updated_by": row.updated_by,
            "updated_at": _iso(row.updated_at)}


def _place(location: dict[str, Any] | None) -> str | None:
    """A location as one line: what the citizen typed, else kelurahan, kecamatan, RT/RW."""
    if not location:
        return None
    if isinstance(location.get("text"), str):
        return location["text"][:120]
    parts = [location.get(k) for k in ("kelurahan", "kecamatan") if location.get(k)]
    if location.get("rt") or location.get("rw"):
        parts.append(f"RT {location.get('rt', '-')}/RW {location.get('rw', '-')}")
    return ", ".join(str(p) for p in parts) or None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _error(status: int, code: str, reason: str) -> web.Response:
    return web.json_response({"error": code, "reason": reason}, status=status)


def routes(api: Any, accounts: Any, wrap: Any) -> list[web.RouteDef]:
    """The queue's routes, wrapped like the officer API's (session, CSRF, early replies)."""
    queue = Queue(api)
    return [
        web.get("/api/v1/tickets", wrap(queue.list_tickets, accounts)),
        web.get("/api/v1/tickets/{ref}/history", wrap(queue.history, accounts)),
        web.get("/api/v1/tickets/{ref}/replies", wrap(queue.ticket_replies, accounts)),
        web.get("/api/v1/tickets/{ref}/assignees", wrap(queue.assignees, accounts)),
        web.post("/api/v1/tickets/{ref}/assign", wrap(queue.assign, accounts)),
        web.post("/api/v1/tickets/{ref}/notes", wrap(queue.add_note, accounts)),
        web.post("/api/v1/tickets/{ref}/reassign", wrap(queue.reassign, accounts)),
        web.get("/api/v1/agencies/{code}/replies", wrap(queue.list_replies, accounts)),
        web.put("/api/v1/agencies/{code}/replies/{name}", wrap(queue.put_reply, accounts)),
        web.delete("/api/v1/agencies/{code}/replies/{name}", wrap(queue.delete_reply, accounts)),
    ]
