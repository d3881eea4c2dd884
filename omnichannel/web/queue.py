"""The officers' queue and desk actions: every visible ticket with filters and search, assignment, internal
notes, canned replies, reassignment to another agency.

Access is the caller's (``officer_api.Caller``): an officer sees the tickets of their agencies only (another
agency's ticket answers 404, its queue or replies 403), a ppid information requests only, a coordinator
every agency. Every action is an audit event with the person (or token) that took it.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import Integer, and_, func, literal_column, or_, select, text, tuple_
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table

from omnichannel import corrections
from omnichannel.models import AuditEvent, CannedReply, Case, Complaint, Ticket, User
from omnichannel.pii import mask
from omnichannel.types import utcnow
from omnichannel.web import contacts
from omnichannel.web.history import ticket_history
from omnichannel.web.officer_api import _Reply

log = logging.getLogger(__name__)

CLOSED = ("selesai", "ditolak", "dialihkan", "digabung")
DUE_SOON = timedelta(days=1)
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000
MAX_NOTE = 4000
COUNT_CAP = 1000  # a queue counts its matches up to here; past it the total is a lower bound
SEARCH_WALK = 1000  # SQLite: a search matching more complaints walks the queue's order (see Queue._search)
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
        if offset > MAX_OFFSET:  # past a 64-bit integer the database refuses the number itself (a 500)
            return _error(400, "bad_request", f"offset must be at most {MAX_OFFSET}")
        after = _cursor(query.get("after", ""))
        if after is False:
            return _error(400, "bad_request", "after must be a next_after value from an earlier page")
        if after is not None and offset:
            return _error(400, "bad_request", "give after or offset, not both")
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
            # most tickets: not through ix_tickets_assigned_to, which SQLite (no statistics) would read whole
            # and then sort, instead of walking the queue's order
            cond.append(func.coalesce(Ticket.assigned_to, "") == "")
        elif assigned:
            cond.append(Ticket.assigned_to == assigned)
        if query.get("channel"):
            channels = [s.strip() for s in query["channel"].split(",") if s.strip()]
            # probed per ticket through ix_complaints_case_channel, as the ordered walk meets it (no set built)
            cond.append(select(Complaint.id).where(Complaint.case_id == Ticket.case_id,
                                                   Complaint.channel.in_(channels)).exists())
        q = query.get("q", "").strip()
        async with self.store.session() as session:
            if session.bind is not None and session.bind.dialect.name == "postgresql":
                # asyncpg prepares statements, and after five runs PostgreSQL plans them once for any value: a
                # search then walked every ticket testing each text (1.3 s for a rare word) where the GIN index
                # answers in milliseconds. Plan each query for its values (a planning costs about a millisecond).
                await session.exec(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            if q:
                matched = await self._search(session, q)
                if matched is None:
                    return _error(400, "bad_request", "q needs at least one word")
                cond.append(matched)
            column, desc = SORTS[sort]
            # counting every match of a 100,000-ticket queue cost more than the page itself: count up to
            # COUNT_CAP, past that there are more than ``total`` (total_exact false: "lebih dari 1000"). The
            # count rides on the page's statement, so a search's matches are collected once for both.
            capped = select(func.count()).select_from(
                select(Ticket.id).where(*cond).limit(COUNT_CAP + 1).subquery()).scalar_subquery()
            page, counted = await _page(session, cond, column, desc, limit + 1, offset, after, capped)
            more = len(page) > limit
            page = page[:limit]
            if counted is None:  # the page started past every ticket with a value
                counted = (await session.exec(select(capped))).scalar_one()
            exact = counted <= COUNT_CAP
            total = counted if exact else max(COUNT_CAP, offset + len(page))  # not exact: more than this
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
        nxt = offset + len(tickets) if more and after is None else None
        last = rows[-1][0] if rows and more else None
        return web.json_response({"total": total, "total_exact": exact, "limit": limit, "offset": offset,
                                  "next_offset": nxt, "next_after": _cursor_of(last, column.key) if last else None,
                                  "sort": sort, "tickets": tickets})

    async def _search(self, session: Any, q: str) -> Any:
        """A condition on tickets: their case has a complaint matching every word of ``q`` (FTS5 on SQLite,
        the tsvector table of migration 0006_ingest on PostgreSQL, filled after each commit)."""
        words = _WORD.findall(q.lower())[:12]
        if not words:
            return None
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        if dialect == "postgresql":  # complaints_search: filled after each commit (omnichannel.search)
            tsq = func.to_tsquery("simple", " & ".join(f"{w}:*" for w in words))
            ids = select(sql_column("complaint_id")).select_from(sql_table("complaints_search")).where(
                sql_column("doc").op("@@")(tsq))
            return Ticket.case_id.in_(select(Complaint.case_id).where(Complaint.id.in_(ids),
                                                                      Complaint.case_id.is_not(None)))
        match = " ".join(f'"{w}"*' for w in words)  # quoted: an officer's input is never FTS5 syntax
        found = text("complaints_search MATCH :match").bindparams(match=match)
        # complaint ids to cases from ix_complaints_id_case, not from each complaint's row of text (SQLite
        # without statistics picks the row: 86 ms instead of 24 for 27,000 matches)
        cases = text("SELECT case_id FROM complaints INDEXED BY ix_complaints_id_case WHERE id IN (SELECT rowid "
                     "FROM complaints_search WHERE complaints_search MATCH :match) AND case_id IS NOT NULL"
                     ).bindparams(match=match).columns(case_id=Integer).cte("matched").prefix_with("MATERIALIZED")
        cases = select(cases.c.case_id)  # collected once per statement: the page and its count share it
        many = (await session.exec(select(func.count()).select_from(text("complaints_search")).where(
            found))).scalar_one() > SEARCH_WALK  # FTS5 counts its matches in a millisecond or two
        # a rare word: read the few matching tickets and sort them. A common one: walk the queue in its
        # order and keep the tickets whose case matched (``+`` keeps SQLite from driving the query from
        # the matches instead, sorting thousands of tickets for one page)
        column = literal_column("+tickets.case_id") if many else Ticket.case_id
        return column.in_(cases)

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
            events = await ticket_history(session, ticket, full=contacts.full_view(caller, ticket.agency))
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
        if len(reply_text) > MAX_NOTE:
            return _error(422, "invalid", f"the text must be at most {MAX_NOTE} characters")
        unknown = unknown_placeholders(reply_text)
        if unknown:  # a typo would reach citizens as "{nama_instansii}": refused with what is allowed
            return web.json_response({"error": "invalid", "unknown": unknown, "allowed": list(PLACEHOLDERS),
                                      "reason": "unknown placeholders: " + ", ".join("{" + u + "}" for u in unknown)
                                      + "; allowed: " + ", ".join("{" + p + "}" for p in PLACEHOLDERS)},
                                     status=422)
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


async def _page(session: Any, cond: list[Any], column: Any, desc: bool, want: int, offset: int,
                after: tuple[datetime | None, int] | None = None, extra: Any = None) -> tuple[list[int], Any]:
    """Ids of up to ``want`` tickets from ``offset`` (or after the ticket ``after`` names: its value and id)
    in the order of ``column`` (then id), tickets without a value (no deadline) last, by id. Two reads, each
    walking an index (ix_tickets_<column>_id) instead of sorting every match: the tickets with a value, then,
    when the page reaches past them, those without. ``after`` (keyset) costs the same on any page; ``offset``
    walks past every skipped ticket. ``extra``: a scalar subquery read along with the first read (its value
    is returned, None when that read found nothing)."""
    page: list[int] = []
    value = None
    valued = after is None or after[0] is not None
    if valued:
        order = [column.desc(), Ticket.id.desc()] if desc else [column, Ticket.id]
        where = [*cond, column.is_not(None)]
        if after is not None:
            key = tuple_(column, Ticket.id)
            where.append(key < tuple_(*after) if desc else key > tuple_(*after))
        read = (await session.exec(select(Ticket.id, extra if extra is not None else literal_column("NULL"))
                                   .where(*where).order_by(*order).limit(want).offset(offset))).all()
        page = [row[0] for row in read]
        value = read[0][1] if read else None
    if len(page) < want and Ticket.__table__.c[column.key].nullable:
        skip, where = 0, [*cond, column.is_(None)]
        if after is not None and not valued:
            where.append(Ticket.id > after[1])
        elif not page and offset:  # the page starts past every ticket with a value: how far past
            counted = (await session.exec(select(func.count()).select_from(Ticket).where(
                *cond, column.is_not(None)))).scalar_one()
            skip = max(0, offset - counted)
        page += list((await session.exec(select(Ticket.id).where(*where).order_by(Ticket.id)
                                         .limit(want - len(page)).offset(skip))).scalars().all())
    return page, value


def _cursor_of(ticket: Ticket, key: str) -> str:
    """``next_after``: the last ticket's value of the sort column and its id, opaque to clients."""
    value = getattr(ticket, key)
    raw = json.dumps([value.isoformat() if value is not None else None, ticket.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor(text_: str) -> tuple[datetime | None, int] | None | bool:
    """The ``after`` parameter: None when absent, False when it is not one of ours."""
    if not text_:
        return None
    try:
        value, last = json.loads(base64.urlsafe_b64decode(text_ + "=" * (-len(text_) % 4)))
        when = datetime.fromisoformat(value) if value is not None else None
        if not isinstance(last, int) or isinstance(last, bool) or not 0 < last <= MAX_OFFSET \
                or (when is not None and when.tzinfo is None):
            return False
        return when, last
    except (ValueError, TypeError, UnicodeDecodeError):
        return False


_BRACED = re.compile(r"\{([^{}\n]{0,60})\}")


def unknown_placeholders(template: str) -> list[str]:
    """The ``{name}`` placeholders of ``template`` that no ticket fills (in order, once each)."""
    out: list[str] = []
    for found in _BRACED.findall(template):
        if found not in PLACEHOLDERS and found not in out:
            out.append(found)
    return out


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
