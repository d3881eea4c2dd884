"""The officers' HTTP API: an agency's ticket queue, one ticket, status changes and answers.

Every request carries ``Authorization: Bearer <token>``; a token from ``agencies[*].officer_tokens`` acts
for that agency, one from ``http.coordinator_tokens`` sees every agency (with personal data masked).
An officer asking for another agency's queue gets 403; for another agency's ticket, 404 (its existence
is not revealed). Errors are JSON: ``{"error": code, "reason": text}``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import and_, func, or_, select

from omnichannel import storable
from omnichannel.models import Case, Complaint, Identity, Reporter, Ticket
from omnichannel.pii import mask
from omnichannel.protocols import AnswerDesk
from omnichannel.types import utcnow
from omnichannel.web import contacts
from omnichannel.web.attachments import for_complaints as attachment_list
from omnichannel.web.body import BodyError, header_bytes, parse_json, read_body
from omnichannel.web.limits import limiter

log = logging.getLogger(__name__)

CLOSED = ("selesai", "ditolak")
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000
_REF = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def match_secrets(entries: list[tuple[Any, str | None]], presented: Any) -> tuple[set[str], bool]:
    """The agencies (and whether the coordinator's) of every entry whose secret equals ``presented``, compared
    in constant time with no early exit, so timing does not tell which entry matched (secrets and ``presented``
    of one type: bytes, or ASCII text). Agency None: the coordinator."""
    agencies: set[str] = set()
    coordinator = False
    for secret, agency in entries:
        if hmac.compare_digest(secret, presented):
            if agency is None:
                coordinator = True
            else:
                agencies.add(agency)
    return agencies, coordinator


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: the agencies the token acts for, or a coordinator."""

    agencies: frozenset[str]
    coordinator: bool
    actor: str
    kinds: frozenset[str] | None = None  # a ppid sees information requests only
    login: str | None = None  # a person logged in (omnichannel.web.accounts), not a machine token
    role: str | None = None

    def owns(self, agency: str) -> bool:
        """True when the caller's agency owns tickets of ``agency``."""
        return agency in self.agencies

    def sees(self, agency: str, kind: str | None) -> bool:
        """True when the caller may read and act on a ticket of ``agency`` and ``kind``."""
        return (self.coordinator or self.owns(agency)) and (self.kinds is None or kind in self.kinds)


# a logged-in person's caller, put on the request by ``omnichannel.web.accounts``
OFFICER = web.RequestKey("officer", Caller)


def _error(status: int, code: str, reason: str) -> web.Response:
    headers = {"WWW-Authenticate": 'Bearer realm="omnichannel"'} if status == 401 else None
    return web.json_response({"error": code, "reason": reason}, status=status, headers=headers)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class OfficerApi:
    """Handlers bound to one store and config."""

    def __init__(self, store: Any, config: Any, templates: Any, answers: AnswerDesk | None = None) -> None:
        self.store = store
        self.config = config
        self.templates = templates
        self.answers = answers
        self._tokens: list[tuple[bytes, str | None]] = []
        for agency in config.agencies:
            for token in agency.officer_tokens:
                self._tokens.append((token.get_secret_value().encode(), agency.code))
        for token in config.http.coordinator_tokens:
            self._tokens.append((token.get_secret_value().encode(), None))

    def caller(self, request: web.Request) -> Caller | None:
        """Match the bearer token against every configured token in constant time."""
        header = header_bytes(request, "Authorization")  # any bytes a client sends: never a 500
        scheme, _, given = header.partition(b" ")
        if scheme.lower() != b"bearer" or not given.strip():
            return None
        presented = given.strip()
        agencies, coordinator = match_secrets([(t, a) for t, a in self._tokens if t], presented)
        if not agencies and not coordinator:
            return None
        who = "coordinator" if coordinator else ",".join(sorted(agencies))
        fingerprint = hashlib.sha256(presented).hexdigest()[:8]
        return Caller(frozenset(agencies), coordinator, f"officer:{who}#{fingerprint}")

    def _auth(self, request: web.Request) -> Caller:
        rate = limiter(request)
        if rate is not None and (refused := rate.blocked("login", request)) is not None:
            raise _Reply(refused)  # too many wrong tokens from this client: not even checked
        caller = request.get(OFFICER) or self.caller(request)  # a login session (web.accounts) or a token
        if caller is None:
            if rate is not None:
                rate.charge("login", request)
            raise _Reply(_error(401, "unauthorized", "a valid officer token is required (Authorization: Bearer)"))
        return caller

    def _answers(self) -> AnswerDesk:
        if self.answers is None:
            raise _Reply(_error(503, "unavailable", "answering needs the router, which is not installed here"))
        return self.answers

    async def _ticket(self, session: Any, ref: str, caller: Caller) -> Ticket:
        if not _REF.match(ref):  # NUL or other bytes the database refuses: no such ticket
            raise _Reply(_error(404, "not_found", "no such ticket in your agency's queue"))
        ticket = (await session.exec(select(Ticket).where(Ticket.ref == ref.upper()))).scalars().first()
        if ticket is None or not caller.sees(ticket.agency, ticket.kind):
            raise _Reply(_error(404, "not_found", f"no ticket {ref} in your agency's queue"))
        return ticket

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        try:
            body = parse_json(await read_body(request, request.app._client_max_size))
        except BodyError as exc:
            raise _Reply(_error(exc.status, "bad_request", exc.reason)) from None
        if not isinstance(body, dict):
            raise _Reply(_error(400, "bad_request", "the body must be a JSON object"))
        return storable.data(body)  # NUL and lone surrogates (which no database stores) become U+FFFD

    # -- handlers -------------------------------------------------------------------------------
    async def list_tickets(self, request: web.Request) -> web.Response:
        """``GET /api/v1/agencies/{code}/tickets?status=a,b&overdue=true&limit=50&offset=0``."""
        caller = self._auth(request)
        code = request.match_info["code"]
        if not (caller.coordinator or caller.owns(code)):
            return _error(403, "forbidden", f"this token does not act for agency {code}")
        if self.config.agency(code) is None:
            return _error(404, "not_found", f"no agency {code}")
        try:
            limit = min(MAX_LIMIT, max(1, int(request.query.get("limit", "50"))))
            offset = max(0, int(request.query.get("offset", "0")))
        except ValueError:
            return _error(400, "bad_request", "limit and offset must be integers")
        if offset > MAX_OFFSET:  # past a 64-bit column the database refuses the number itself
            return _error(400, "bad_request", f"offset must be at most {MAX_OFFSET}")
        cond = [Ticket.agency == code]
        if caller.kinds is not None:
            cond.append(Ticket.kind.in_(caller.kinds))
        if request.query.get("status"):
            wanted = [s.strip() for s in request.query["status"].split(",") if s.strip()]
            if not all(w.isidentifier() for w in wanted):
                return _error(400, "bad_request", "status is a comma-separated list of status names")
            cond.append(Ticket.status.in_(wanted))
        overdue_expr = or_(Ticket.overdue.is_(True),  # never NULL, so ``~`` selects the rest exactly
                           and_(Ticket.sla_due.is_not(None), Ticket.sla_due < utcnow(), Ticket.status.not_in(CLOSED)))
        overdue = request.query.get("overdue", "").lower()
        if overdue in ("1", "true", "yes"):
            cond.append(overdue_expr)
        elif overdue in ("0", "false", "no"):
            cond.append(~overdue_expr)
        elif overdue:
            return _error(400, "bad_request", "overdue must be true or false")
        async with self.store.session() as session:
            total = (await session.exec(select(func.count()).select_from(Ticket).where(*cond))).scalar_one()
            q = (select(Ticket, Case).join(Case, Case.id == Ticket.case_id).where(*cond)
                 .order_by(Ticket.sla_due.is_(None), Ticket.sla_due, Ticket.id).limit(limit).offset(offset))
            rows = (await session.exec(q)).all()
            case_names: dict[int, list[str]] = {}
            if rows:  # a title is the start of a complaint's text: its reporters' names are masked in it
                reporters = (await session.exec(select(Complaint.case_id, Complaint.reporter_id).where(
                    Complaint.case_id.in_({c.id for _, c in rows}), Complaint.reporter_id.is_not(None)))).all()
                names = await _names(session, {r for _, r in reporters})
                for case_id, rid in reporters:
                    case_names.setdefault(case_id, []).extend(names.get(rid, []))
        now = utcnow()
        tickets = [{"ref": t.ref, "kind": t.kind, "status": t.status, "agency": t.agency,
                    "sla_due": _iso(t.sla_due), "overdue": bool(t.overdue or (t.sla_due and t.sla_due < now
                                                                               and t.status not in CLOSED)),
                    "reporters": c.reporter_count, "complaints": c.complaint_count,
                    "title": mask(c.title, case_names.get(c.id)) if c.title else None, "location": c.location,
                    "lapor_tracking_id": t.lapor_tracking_id, "created_at": _iso(t.created_at),
                    "updated_at": _iso(t.updated_at)} for t, c in rows]
        nxt = offset + len(tickets) if offset + len(tickets) < total else None
        return web.json_response({"agency": code, "total": total, "limit": limit, "offset": offset,
                                  "next_offset": nxt, "tickets": tickets})

    async def get_ticket(self, request: web.Request) -> web.Response:
        """``GET /api/v1/tickets/{ref}``: the ticket, its case and its complaints."""
        caller = self._auth(request)
        async with self.store.session() as session:
            ticket = await self._ticket(session, request.match_info["ref"], caller)
            case = await session.get(Case, ticket.case_id)
            q = (select(Complaint).where(or_(Complaint.case_id == ticket.case_id,
                                              Complaint.duplicate_of.in_(select(Complaint.id).where(
                                                  Complaint.case_id == ticket.case_id))))
                 .order_by(Complaint.id))
            complaints = (await session.exec(q)).scalars().all()
            others = (await session.exec(select(Ticket.ref, Ticket.agency, Ticket.status).where(
                Ticket.case_id == ticket.case_id, Ticket.id != ticket.id))).all()
            names = await _names(session, {c.reporter_id for c in complaints if c.reporter_id is not None})
            reporters = await contacts.reporters(session, list(complaints))
            files = await attachment_list(session, [c.id for c in complaints])
        full = contacts.full_view(caller, ticket.agency)
        agency = self.config.agency(ticket.agency)
        body = {"ref": ticket.ref, "agency": ticket.agency, "agency_name": agency.name if agency else None,
                "kind": ticket.kind, "status": ticket.status, "sla_due": _iso(ticket.sla_due),
                "sla_extended": ticket.sla_extended, "overdue": ticket.overdue,
                "lapor_tracking_id": ticket.lapor_tracking_id, "lapor_status": ticket.lapor_status,
                "answer": ticket.answer, "created_at": _iso(ticket.created_at), "updated_at": _iso(ticket.updated_at),
                "closed_at": _iso(ticket.closed_at), "personal_data": "full" if full else "masked",
                "assigned_to": ticket.assigned_to,
                "case": {"ref": case.ref if case else None, "reporters": case.reporter_count if case else 0,
                         "complaints": case.complaint_count if case else 0,
                         "location": case.location if case else None},
                "other_tickets": [{"ref": r, "agency": a, "status": s} for r, a, s in others],
                "complaints": [{**self._complaint(c, full, names.get(c.reporter_id, [])),
                                "attachments": _files(files.get(c.id, []), full and not c.anonymous,
                                                      names.get(c.reporter_id, []))} for c in complaints]}
        # -- reporter contacts (web.contacts): to call back; masked for a viewer outside the owning agency --
        for c, out in zip(complaints, body["complaints"], strict=True):
            out["reporter"] = contacts.shown(reporters.get(c.reporter_id), full, c.anonymous)
        return web.json_response(body)

    @staticmethod
    def _complaint(c: Complaint, full: bool, names: list[str]) -> dict[str, Any]:
        # a viewer who may not see personal data does not read the reporter's own name in the text either
        text = c.text if full and not c.anonymous else mask(c.text, names)
        subject = c.subject if (full and not c.anonymous) or not c.subject else mask(c.subject, names)
        return {"ref": c.ref, "channel": c.channel, "status": c.status, "subject": subject, "text": text,
                "anonymous": c.anonymous, "confidential": c.confidential, "location": c.location,
                "dedup_level": c.dedup_level, "created_at": _iso(c.created_at)}

    async def post_status(self, request: web.Request) -> web.Response:
        """``POST /api/v1/tickets/{ref}/status`` with ``{"status": "diterima|diproses|selesai|ditolak", "note"}``."""
        caller = self._auth(request)
        answers = self._answers()
        body = await self._body(request)
        status, note = body.get("status"), body.get("note")
        if not isinstance(status, str) or (note is not None and not isinstance(note, str)):
            return _error(400, "bad_request", "status must be a string and note a string or null")
        async with self.store.session() as session:
            ticket = await self._ticket(session, request.match_info["ref"], caller)
            try:
                result = await answers.set_status(session, ticket, status, note, caller.actor, self.config, self.templates)
            except ValueError as exc:
                return _error(422, "invalid", str(exc))
            await session.commit()
        log.info("ticket %s status %s → %s by %s", result["ticket"], result["from"], status, caller.actor)
        return web.json_response(result)

    async def post_reply(self, request: web.Request) -> web.Response:
        """``POST /api/v1/tickets/{ref}/reply`` with ``{"text": ...}``: answer every reporter of the case."""
        caller = self._auth(request)
        answers = self._answers()
        body = await self._body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return _error(422, "invalid", "text must be a non-empty string")
        async with self.store.session() as session:
            ticket = await self._ticket(session, request.match_info["ref"], caller)
            replies = await answers.record_answer(session, ticket, text, caller.actor, self.config, self.templates)
            status = ticket.status
            await session.commit()
        return web.json_response({"ticket": ticket.ref, "replies": replies, "status": status}, status=201)


def _files(items: list[dict[str, Any]], full: bool, names: list[str]) -> list[dict[str, Any]]:
    # a file name can carry personal data too (KTP_Budi_3374....jpg): masked like the text for other viewers
    return items if full else [{**a, "filename": mask(a["filename"] or "", names)} for a in items]


async def _names(session: Any, reporter_ids: set[int]) -> dict[int, list[str]]:
    """Every name recorded for these reporters (their own display name and each identity's name)."""
    out: dict[int, list[str]] = {}
    if not reporter_ids:
        return out
    for rid, name in (await session.exec(select(Reporter.id, Reporter.display_name).where(
            Reporter.id.in_(reporter_ids)))).all():
        if name:
            out.setdefault(rid, []).append(name)
    for rid, name in (await session.exec(select(Identity.reporter_id, Identity.name).where(
            Identity.reporter_id.in_(reporter_ids)))).all():
        if name:
            out.setdefault(rid, []).append(name)
    return out


class _Reply(Exception):  # noqa: N818 (an early answer, not an error)
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _wrap(handler: Any, accounts: Any = None) -> Any:
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            early = await accounts.attach(request) if accounts is not None else None  # session + CSRF
            return early or await handler(request)
        except _Reply as early:
            return early.response

    return run


def routes(store: Any, config: Any, templates: Any, answers: AnswerDesk | None = None) -> list[web.RouteDef]:
    """The officer API's routes, for the daemon's one aiohttp app; ``answers`` is the router's answer desk
    (without it, reading works and answering says the router is not installed)."""
    return api_routes(OfficerApi(store, config, templates, answers))


def api_routes(api: OfficerApi, accounts: Any = None) -> list[web.RouteDef]:
    """``api``'s routes; with ``accounts`` (``omnichannel.web.accounts``) login sessions count too."""
    return [
        web.get("/api/v1/agencies/{code}/tickets", _wrap(api.list_tickets, accounts)),
        web.get("/api/v1/tickets/{ref}", _wrap(api.get_ticket, accounts)),
        web.post("/api/v1/tickets/{ref}/status", _wrap(api.post_status, accounts)),
        web.post("/api/v1/tickets/{ref}/reply", _wrap(api.post_reply, accounts)),
    ]
