"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 description of the officers' API (sessions, queue, tickets,
history, assignment, notes, canned replies, reassignment).

Written by hand next to the handlers (``web.officer_api``, ``web.accounts``, ``web.queue``); a test holds every
mounted officer route to a documented path and method.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

ERROR = {"$ref": "#/components/schemas/Error"}
TICKET_REF = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "ticket ref, e.g. TIK-2026-000042 (case-insensitive)"}
CASE_REF = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"},
            "description": "case ref, e.g. KAS-2026-000042"}
AGENCY_CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
               "description": "agency code from the config"}
STATUSES = ["baru", "diterima", "diproses", "selesai", "ditolak", "dialihkan"]


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "bad request (the reason says which field)", 401: "no valid token or session",
             403: "not allowed for this caller, or CSRF token missing/wrong on a session request",
             404: "no such ticket in the caller's queue (another agency's ticket answers the same)",
             415: "not application/json", 422: "the request is understood but cannot be done (reason given)",
             503: "the router's answer desk is not installed"}
    return {str(c): {"description": words[c], "content": {"application/json": {"schema": ERROR}}} for c in codes}


def _ok(description: str, schema: dict[str, Any], status: int = 200) -> dict[str, Any]:
    return {str(status): {"description": description, "content": {"application/json": {"schema": schema}}}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": props}


def _op(summary: str, responses: dict[str, Any], *, params: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None, tag: str = "tickets", public: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = body
    if public:
        op["security"] = []
    return op


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema or {"type": "string"},
            "description": description}


STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
NSTR = {"type": ["string", "null"]}
TIME = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS: dict[str, Any] = {
    "Error": _obj(["error", "reason"], error={"type": "string", "description": "machine-readable code"},
                  reason={"type": "string", "description": "what went wrong (English)"}),
    "Me": _obj(["login", "name", "role", "agencies", "csrf"], login=STR, name=STR,
               role={"enum": ["petugas", "koordinator", "ppid", "admin", "pimpinan"]},
               agencies={"type": "array", "items": STR}, csrf={"type": "string", "description": "send as X-CSRF-Token"},
               visible_agencies={"type": "array", "items": _obj(["code", "name"], code=STR, name=STR)},
               all_agencies={"type": "array", "items": _obj(["code", "name"], code=STR, name=STR)},
               can_reassign=BOOL),
    "QueueRow": _obj(["ref", "kind", "status", "agency", "overdue", "due_soon"], ref=STR, case=STR, kind=STR,
                     status={"enum": STATUSES}, agency=STR, title=NSTR, location=NSTR,
                     channels={"type": "array", "items": STR}, reporters=INT, complaints=INT, created_at=TIME,
                     updated_at=TIME, sla_due=TIME, overdue=BOOL,
                     due_soon={"type": "boolean", "description": "deadline within a day (hampir jatuh tempo)"},
                     assigned_to=NSTR, assignee_name=NSTR),
    "Queue": _obj(["total", "limit", "offset", "tickets"], total=INT, limit=INT, offset=INT,
                  next_offset={"type": ["integer", "null"]}, sort=STR,
                  tickets={"type": "array", "items": {"$ref": "#/components/schemas/QueueRow"}}),
    "Ticket": {"type": "object", "required": ["ref", "agency", "kind", "status"],
               "description": "the ticket, its case and every complaint (personal data masked for other agencies)",
               "properties": {"ref": STR, "agency": STR, "agency_name": NSTR, "kind": STR, "status": {"enum": STATUSES},
                              "sla_due": TIME, "overdue": BOOL, "assigned_to": NSTR, "answer": NSTR,
                              "personal_data": {"enum": ["full", "masked"]},
                              "case": {"type": "object"}, "other_tickets": {"type": "array"},
                              "complaints": {"type": "array", "items": {"type": "object", "properties": {
                                  "attachments": {"type": "array",
                                                  "items": {"$ref": "#/components/schemas/Attachment"}}}}}}},
    "Attachment": _obj(["id", "filename", "content_type", "size", "stored"], id=STR, filename=STR,
                       content_type={"type": "string", "description": "sniffed from the bytes when stored"},
                       size=INT, sha256=NSTR, stored=BOOL,
                       skipped_reason={"type": ["string", "null"],
                                       "description": "why only the metadata was kept (oversize, type, download)"},
                       url={"type": ["string", "null"], "description": "GET it for the bytes; null when not stored"}),
    "Event": _obj(["at", "type", "actor"], at=TIME, actor=STR, actor_name=NSTR, ticket=STR,
                  type={"type": "string", "description": "complaint, routed, status, answer, note, assign, reassign, "
                                                          "reassigned_from, delivery, lapor_*, ..."},
                  detail={"type": "object"}),
    "CannedReply": _obj(["agency", "name", "text"], agency=STR, name=STR, text=STR, updated_by=STR,
                        updated_at=TIME),
}


def _keberatan_paths() -> dict[str, Any]:
    """Keberatan (UU 14/2008 Pasal 35-36): the citizen's own filing and the PPID's list (web.keberatan, web.ppid_api)."""
    keberatan = _obj(["ref", "ticket", "agency", "reason", "filed_at", "due_at", "overdue"], ref=STR, ticket=STR,
                     agency=STR, reason={"enum": list("abcdefg")}, reason_text=NSTR, text=NSTR,
                     filed_by={"enum": ["citizen", "officer"]}, filed_at=TIME,
                     due_at={"type": "string", "format": "date-time", "description": "30 working days after filing"},
                     overdue=BOOL, answered_at=TIME, outcome={"enum": ["dikabulkan", "ditolak", None]})
    return {
        "/api/v1/keberatan": {"get": _op("keberatan against the caller's agencies' information requests, oldest "
                                         "deadline first", {
            **_ok("keberatan", _obj(["keberatan"], keberatan={"type": "array", "items": keberatan})),
            **_errors(401, 403)}, params=[_query("open", "true: only those not answered yet")], tag="keberatan")},
        "/api/v1/complaints/{ref}/keberatan": {"post": _op(
            "a citizen's keberatan against the decision on their information request, proven by the web intake's "
            "access key; within 30 working days of the decision (or of a deadline that passed unanswered: grounds c "
            "or g); answers the acknowledgement (template keberatan_ack)", {
                **_ok("filed", _obj(["keberatan", "complaint", "ticket", "reason", "filed_at", "due_at", "message"],
                                    keberatan=STR, complaint=STR, ticket=STR, reason=STR, reason_text=STR,
                                    filed_at=TIME, due_at=TIME, filing_deadline=TIME,
                                    message={"type": "string", "description": "the acknowledgement, Bahasa Indonesia"}),
                      201),
                **_errors(400, 422),
                "404": {"description": "unknown ref or wrong access key", "content": {"application/json": {
                    "schema": ERROR}}},
                "409": {"description": "not an information request, not decided yet, or a keberatan still open",
                        "content": {"application/json": {"schema": ERROR}}}},
            params=[{"name": "ref", "in": "path", "required": True, "schema": STR,
                     "description": "the complaint ref, e.g. ADU-2026-000123"},
                    _query("akses", "the access key (or in the body)")],
            body=_body(_obj(["reason"], akses=STR, reason={"enum": list("abcdefg"), "description": "Pasal 35 ayat 1"},
                            text={"type": ["string", "null"], "maxLength": 4000})), tag="keberatan", public=True)},
    }


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    def schema(name: str) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{name}"}

    paths: dict[str, Any] = {
        "/api/v1/session": {
            "post": _op("log in with a personal account; sets the omni_sesi cookie (HttpOnly, SameSite=Strict, "
                        "Secure behind https); 5 failures lock the account for 15 minutes",
                        {**_ok("logged in", schema("Me")), **_errors(400, 401, 403, 415)},
                        body=_body(_obj(["login", "password"], login=STR, password=STR)), tag="session", public=True),
            "get": _op("who is logged in, and the session's CSRF token", {**_ok("the account", schema("Me")),
                                                                          **_errors(401)}, tag="session", public=True),
        },
        "/api/v1/session/logout": {"post": _op("end the session (needs X-CSRF-Token)", {
            **_ok("logged out", _obj(["logged_out"], logged_out=BOOL)), **_errors(403)}, tag="session")},
        "/api/v1/tickets": {"get": _op("the caller's queue: every ticket they may see", {
            **_ok("a page of tickets", schema("Queue")), **_errors(400, 401, 403)}, params=[
            _query("status", "comma-separated statuses"), _query("agency", "an agency code, or semua (coordinators)"),
            _query("kind", "comma-separated kinds"), _query("channel", "comma-separated channels of any message"),
            _query("overdue", "true: past the deadline and open; false: the rest", {"enum": ["true", "false"]}),
            _query("assigned", "me, none, or a login"),
            _query("q", "words that must all appear in one message of the case (full-text, prefixes)"),
            _query("sort", "order", {"enum": ["sla_due", "-sla_due", "created_at", "-created_at", "updated_at",
                                              "-updated_at"]}),
            _query("limit", "1-200 (default 50)", INT), _query("offset", "rows to skip", INT)])},
        "/api/v1/agencies/{code}/tickets": {"get": _op("one agency's queue (kept for machine clients)", {
            **_ok("a page of tickets", {"type": "object"}), **_errors(400, 401, 403, 404)}, params=[
            AGENCY_CODE, _query("status", "comma-separated statuses"), _query("overdue", "true or false"),
            _query("limit", "1-200", INT), _query("offset", "rows to skip", INT)])},
        "/api/v1/tickets/{ref}": {"get": _op("one ticket with its case and complaints", {
            **_ok("the ticket", schema("Ticket")), **_errors(401, 404)}, params=[TICKET_REF])},
        "/api/v1/attachments/{id}": {"get": _op(
            "the bytes of one attachment (a photo or file a reporter sent), to a caller who sees its ticket", {
                "200": {"description": "the file, with its sniffed Content-Type, Content-Disposition (inline for "
                                       "pictures and PDF, attachment otherwise or with ?unduh) and nosniff",
                        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                **_errors(401, 404)}, tag="attachments", params=[
                {"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
                 "description": "the attachment id from the ticket's complaints, <envelope>-<position>"},
                _query("unduh", "present: always a download (Content-Disposition: attachment)")])},
        "/api/v1/tickets/{ref}/status": {"post": _op(
            "change the status; ditolak needs a note (sent to every reporter), reopening tells every reporter", {
                **_ok("what changed", {"type": "object"}), **_errors(400, 401, 403, 404, 422, 503)},
            params=[TICKET_REF], body=_body(_obj(["status"], status={"enum": STATUSES[:5]}, note=NSTR)))},
        "/api/v1/tickets/{ref}/reply": {"post": _op("answer every reporter on their own channel", {
            **_ok("replies queued", {"type": "object"}, 201), **_errors(400, 401, 403, 404, 422, 503)},
            params=[TICKET_REF], body=_body(_obj(["text"], text=STR)))},
        "/api/v1/tickets/{ref}/history": {"get": _op("everything that happened, oldest first, with who and when", {
            **_ok("events", _obj(["ticket", "events"], ticket=STR,
                                 events={"type": "array", "items": schema("Event")})), **_errors(401, 404)},
            params=[TICKET_REF])},
        "/api/v1/tickets/{ref}/assign": {"post": _op("assign to a person who may work on the ticket (null: nobody)", {
            **_ok("assigned", _obj(["ticket", "assigned_to"], ticket=STR, assigned_to=NSTR, previous=NSTR)),
            **_errors(400, 401, 403, 404, 422)}, params=[TICKET_REF], body=_body(_obj(["user"], user=NSTR)))},
        "/api/v1/tickets/{ref}/assignees": {"get": _op("active accounts that may work on the ticket", {
            **_ok("people", _obj(["ticket", "people"], ticket=STR, assigned_to=NSTR, people={
                "type": "array", "items": _obj(["login", "name", "role"], login=STR, name=STR, role=STR)})),
            **_errors(401, 404)}, params=[TICKET_REF])},
        "/api/v1/tickets/{ref}/notes": {"post": _op("an internal note, never sent to a citizen", {
            **_ok("stored", _obj(["ticket", "note", "by", "at"], ticket=STR, note=STR, by=STR, at=TIME), 201),
            **_errors(400, 401, 403, 404, 422)}, params=[TICKET_REF],
            body=_body(_obj(["text"], text={"type": "string", "maxLength": 4000})))},
        "/api/v1/tickets/{ref}/reassign": {"post": _op(
            "coordinators: close as dialihkan and open a ticket for another agency (history and deliveries follow; "
            "recorded as a correction)", {
                **_ok("reassigned", _obj(["ticket", "new_ticket", "agency"], ticket=STR, status=STR, new_ticket=STR,
                                         agency=STR), 201), **_errors(400, 401, 403, 404, 422, 503)},
            params=[TICKET_REF], body=_body(_obj(["agency", "reason"], agency=STR, reason=STR)))},
        "/api/v1/tickets/{ref}/replies": {"get": _op("the owning agency's canned replies filled for this ticket", {
            **_ok("replies", _obj(["ticket", "replies"], ticket=STR, replies={"type": "array", "items": _obj(
                ["name", "text"], name=STR, text=STR)})), **_errors(401, 404)}, params=[TICKET_REF], tag="replies")},
        "/api/v1/agencies/{code}/replies": {"get": _op(
            "an agency's canned replies (placeholders {ref}, {nama_instansi}, {batas_waktu})", {
                **_ok("replies", _obj(["agency", "replies"], agency=STR, placeholders={"type": "array", "items": STR},
                                      replies={"type": "array", "items": schema("CannedReply")})),
                **_errors(401, 403, 404)}, params=[AGENCY_CODE], tag="replies")},
        "/api/v1/agencies/{code}/replies/{name}": {
            "put": _op("admins: create or replace a canned reply", {
                **_ok("replaced", schema("CannedReply")), **_ok("created", schema("CannedReply"), 201),
                **_errors(400, 401, 403, 404, 422)}, params=[AGENCY_CODE, {
                    "name": "name", "in": "path", "required": True, "schema": STR}],
                body=_body(_obj(["text"], text=STR)), tag="replies"),
            "delete": _op("admins: delete a canned reply", {
                **_ok("deleted", _obj(["deleted"], deleted=STR)), **_errors(401, 403, 404)},
                params=[AGENCY_CODE, {"name": "name", "in": "path", "required": True, "schema": STR}], tag="replies")},
        "/api/v1/cases/{ref}/merge": {"post": _op(
            "merge this case into another: complaints and tickets move, a ticket whose agency the other case has "
            "closes as digabung; recorded as a correction", {
                **_ok("what moved", _obj(["case", "into"], case=STR, into=STR, complaints=INT,
                                         closed_tickets={"type": "array", "items": STR},
                                         moved_tickets={"type": "array", "items": STR})),
                **_errors(400, 401, 403, 404, 422, 503)},
            params=[CASE_REF], body=_body(_obj(["into"], into=STR)), tag="cases")},
        "/api/v1/cases/{ref}/split": {"post": _op(
            "split complaints out into a new case with a ticket for each agency still on it; recorded as a correction",
            {**_ok("the new case", _obj(["case", "new_case", "complaints", "new_tickets"], case=STR, new_case=STR,
                                        complaints={"type": "array", "items": STR},
                                        new_tickets={"type": "array", "items": STR}), 201),
             **_errors(400, 401, 403, 404, 422, 503)},
            params=[CASE_REF], body=_body(_obj(["complaints"], complaints={"type": "array", "items": STR,
                                                                          "minItems": 1})), tag="cases")},
        "/api/v1/openapi.json": {"get": _op("this document", _ok("OpenAPI 3.1", {"type": "object"}), tag="meta",
                                            public=True)},
    }
    paths.update(_keberatan_paths())
    from omnichannel.web.events import OPENAPI_PATH as events_path  # the live stream documents itself

    paths["/api/v1/events"] = events_path
    return {
        "openapi": "3.1.0",
        "info": {"title": "omnichannel officers' API", "version": "1",
                 "description": "The officers' desk: a personal session (cookie + X-CSRF-Token on every change) or "
                                "an agency's bearer token for machine clients. An officer sees only their agencies' "
                                "tickets; a ppid only information requests; coordinators and admins every agency."},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "agencies[*].officer_tokens or "
                                                                          "http.coordinator_tokens"},
            "session": {"type": "apiKey", "in": "cookie", "name": "omni_sesi",
                        "description": "from POST /api/v1/session; changes also need the X-CSRF-Token header"}}},
        "security": [{"bearer": []}, {"session": []}],
    }


def routes() -> list[web.RouteDef]:
    """``GET /api/v1/openapi.json``."""
    doc = document()

    async def serve(_: web.Request) -> web.Response:
        return web.json_response(doc)

    return [web.get("/api/v1/openapi.json", serve)]
