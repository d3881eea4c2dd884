"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 description of every HTTP endpoint the daemon serves: the
citizen intake and status, the channel webhooks, the officers' API (sessions, queue, tickets, history, assignment,
notes, canned replies, reassignment, merge and split), the PPID's, and the ops endpoints.

Written by hand next to the handlers (``web.officer_api``, ``web.accounts``, ``web.queue``, ``web.cases``,
``web.ppid_api``, ``web.server``). A connector whose handlers are mounted describes its own paths (their
place is configurable) with an ``openapi()`` method returning path items; the served document is this table
plus theirs, cut down to the routes the app actually mounts. Tests hold every mounted route (HTML pages
aside) to a documented path and method, and run schemathesis against a live daemon.

Two error shapes exist, both JSON: the officers' ``Error`` (``{"error": code, "reason": text}``) and the
``Problem`` every other refusal uses (``{"error": text}``, with ``problems``, ``retry_after`` or
``request_id`` where they apply: the intake, webhooks, rate limits, unknown paths and the catch-all 500).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

ERROR = {"$ref": "#/components/schemas/Error"}
PROBLEM = {"$ref": "#/components/schemas/Problem"}
TICKET_REF = {"name": "ref", "in": "path", "required": True,
              "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,40}$"},
              "description": "ticket ref, e.g. TIK-2026-000042 (case-insensitive)", "example": "TIK-2026-000001"}
CASE_REF = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1},
            "description": "case ref, e.g. KAS-2026-000042", "example": "KAS-2026-000001"}
AGENCY_CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
               "description": "agency code from the config"}
OBJECTION_REF = {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"},
                 "description": "keberatan ref, e.g. KEB-2026-000001"}
STATUSES = ["baru", "diterima", "diproses", "selesai", "ditolak", "dialihkan", "digabung"]


def _errors(*codes: int) -> dict[str, Any]:
    """Officer API refusals (``Error``: a code and a reason)."""
    words = {400: "bad request: malformed JSON, or the reason says which field", 401: "no valid token or session",
             403: "not allowed for this caller, or CSRF token missing/wrong on a session request",
             404: "no such ticket in the caller's queue (another agency's ticket answers the same)",
             408: "the body did not arrive within http.body_timeout",
             413: "body larger than http.max_body_bytes",
             415: "not application/json", 422: "the request is understood but cannot be done (reason given)",
             503: "the router's answer desk is not installed"}
    return {str(c): {"description": words[c], "content": {"application/json": {"schema": ERROR}}} for c in codes}


def problems(*codes: int, words: dict[int, str] | None = None) -> dict[str, Any]:
    """Refusals in the ``Problem`` shape (intake, webhooks, rate limits); for connectors' ``openapi()`` too."""
    said = {400: "malformed body or parameter (the text says what)", 401: "missing or invalid credentials",
            403: "refused", 404: "not found", 408: "the body did not arrive in time",
            409: "this Idempotency-Key was already used for another body",
            413: "body larger than the configured limit", 415: "wrong Content-Type",
            422: "the body is understood but invalid (``problems`` lists each field)",
            429: "too many requests from this client or overall; ``retry_after`` seconds (also Retry-After)",
            503: "not started yet, or the upstream asked us to slow down (Retry-After)", **(words or {})}
    return {str(c): {"description": said[c], "content": {"application/json": {"schema": PROBLEM}}} for c in codes}


# every operation can meet the catch-all: an unexpected fault is a JSON 500 with a request id (and a bug)
INTERNAL = {"500": {"description": "unexpected fault, logged as one ERROR line with the request id; nothing stored",
                    "content": {"application/json": {"schema": PROBLEM}}}}
# the officer API counts wrong tokens per client (http.rate_limits.login): past the limit, 429 before checking
RATE_LIMITED = problems(429)


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
                  reason={"type": "string", "description": "what went wrong (English)"},
                  until={"type": ["string", "null"], "description": "error locked: when the lock ends"}),
    "Problem": _obj(["error"], error={"type": "string", "description": "what went wrong (English)"},
                    problems={"type": "array", "description": "intake: one entry per invalid field",
                              "items": _obj(["field", "problem"], field=STR, problem=STR)},
                    retry_after={"type": "integer", "description": "429: seconds to wait"},
                    request_id={"type": "string", "description": "500: the id in the daemon's ERROR line"}),
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
    "Queue": _obj(["total", "total_exact", "limit", "offset", "tickets"],
                  total={"type": "integer", "description": "matching tickets, counted up to 1000; past that there "
                                                            "are more than this (total_exact false)"},
                  total_exact=BOOL, limit=INT, offset=INT,
                  next_offset={"type": ["integer", "null"]}, sort=STR,
                  next_after={"type": ["string", "null"], "description": "pass as after for the next page"},
                  tickets={"type": "array", "items": {"$ref": "#/components/schemas/QueueRow"}}),
    "Ticket": {"type": "object", "required": ["ref", "agency", "kind", "status", "personal_data", "case",
                                              "other_tickets", "complaints"],
               "description": "the ticket, its case and every complaint (personal data masked for other agencies)",
               "properties": {"ref": STR, "agency": STR, "agency_name": NSTR, "kind": STR, "status": {"enum": STATUSES},
                              "sla_due": TIME, "sla_extended": BOOL, "overdue": BOOL, "assigned_to": NSTR,
                              "answer": NSTR, "lapor_tracking_id": NSTR, "lapor_status": NSTR, "created_at": TIME,
                              "updated_at": TIME, "closed_at": TIME, "personal_data": {"enum": ["full", "masked"]},
                              "case": _obj(["ref", "reporters", "complaints"], ref=NSTR, reporters=INT,
                                           complaints=INT, location={"type": ["object", "null"]}),
                              "other_tickets": {"type": "array", "items": _obj(
                                  ["ref", "agency", "status"], ref=STR, agency=STR, status={"enum": STATUSES})},
                              "complaints": {"type": "array", "items": {"$ref": "#/components/schemas/Complaint"}}}},
    "Complaint": _obj(["ref", "channel", "status", "text", "anonymous", "confidential"], ref=STR, channel=STR,
                      status=STR, subject=NSTR, text={"type": "string", "description": "names masked where the "
                                                                                      "viewer may not see them"},
                      anonymous=BOOL, confidential=BOOL, location={"type": ["object", "null"]},
                      dedup_level=NSTR, created_at=TIME,
                      attachments={"type": "array", "items": {"$ref": "#/components/schemas/Attachment"}}),
    "StatusChange": _obj(["ticket", "from", "status", "replies", "updates"], ticket=STR,
                         status={"enum": STATUSES}, replies={"type": "integer", "description": "citizen replies queued"},
                         updates={"type": "integer", "description": "deliveries to the agency and LAPOR! queued"},
                         **{"from": {"enum": STATUSES}}),
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
    "Readiness": _obj(["ready", "store", "connectors", "router", "dispatcher"], ready=BOOL,
                      store={"enum": ["ok", "unreachable"]},
                      connectors={"type": "object", "description": "per connector: state, last error, envelopes stored",
                                  "additionalProperties": {"type": "object"}},
                      router=STR, dispatcher=STR, replica={"type": "object"},
                      http_workers={"type": "object", "description": "with http.workers: each worker's state"}),
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
            _query("limit", "1-200 (default 50)", {"type": "integer", "minimum": 1, "maximum": 200}),
            _query("offset", "rows to skip (walked past: prefer after for deep pages)",
                   {"type": "integer", "minimum": 0, "maximum": 1_000_000_000}),
            _query("after", "next_after of the previous page: the next page at the cost of the first (keyset)")])},
        "/api/v1/agencies/{code}/tickets": {"get": _op("one agency's queue (kept for machine clients)", {
            **_ok("a page of tickets", _obj(["agency", "total", "limit", "offset", "tickets"], agency=STR, total=INT,
                                            limit=INT, offset=INT, next_offset={"type": ["integer", "null"]},
                                            tickets={"type": "array", "items": {"type": "object"}})),
            **_errors(400, 401, 403, 404)}, params=[
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
                **_ok("what changed", schema("StatusChange")), **_errors(400, 401, 403, 404, 422, 503)},
            params=[TICKET_REF], body=_body(_obj(["status"], status={"enum": STATUSES[:5]}, note=NSTR)))},
        "/api/v1/tickets/{ref}/reply": {"post": _op("answer every reporter on their own channel", {
            **_ok("replies queued", _obj(["ticket", "replies", "status"], ticket=STR, replies=INT,
                                         status={"enum": STATUSES}), 201), **_errors(400, 401, 403, 404, 422, 503)},
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
        "/api/v1/openapi.json": {"get": _op("this document (the routes this daemon mounts)",
                                            _ok("OpenAPI 3.1", {"type": "object"}), tag="meta", public=True)},
        # -- the PPID (web.ppid_api): bearer tokens and sessions, as the officer API ------------------------------
        "/api/v1/tickets/{ref}/decision": {"post": _op(
            "record the decision on an information request and close it (ditolak when refused), telling every "
            "requester", {**_ok("the status change", {"allOf": [schema("StatusChange"), _obj(
                ["outcome", "reason"], outcome=STR, reason=NSTR)]}),
                          **_errors(400, 401, 403, 404, 408, 413, 422, 503)},
            params=[TICKET_REF], tag="ppid", body=_body(_obj(
                ["outcome"], outcome={"enum": ["dikabulkan", "dikabulkan_sebagian", "ditolak"]},
                reason={"type": ["string", "null"], "description": "pasal17a..pasal17j, belum_dikuasai, "
                                                                     "belum_didokumentasikan"}, note=NSTR)))},
        "/api/v1/tickets/{ref}/extend": {"post": _op(
            "the one extension of an information request's deadline (7 working days)", {
                **_ok("the new deadline", _obj(["ticket", "sla_due", "sla_extended"], ticket=STR, sla_due=TIME,
                                               sla_extended=BOOL)), **_errors(400, 401, 403, 404, 408, 413, 422)},
            params=[TICKET_REF], tag="ppid", body=_body(_obj(["note"], note=STR)))},
        "/api/v1/tickets/{ref}/keberatan": {"post": _op(
            "record a citizen's keberatan against the decision (the superior answers within 30 working days)", {
                **_ok("recorded", _obj(["keberatan", "ticket", "reason", "filed_at", "due_at"], keberatan=STR,
                                       ticket=STR, reason=STR, filed_at=TIME, due_at=TIME), 201),
                **_errors(400, 401, 403, 404, 408, 413, 422)},
            params=[TICKET_REF], tag="ppid", body=_body(_obj(
                ["reason"], reason={"type": "string", "description": "a..g (UU KIP pasal 35)"}, text=NSTR,
                filed_at={"type": ["string", "null"], "format": "date-time",
                          "description": "ISO 8601 with its UTC offset; default now"})))},
        "/api/v1/keberatan/{ref}/answer": {"post": _op(
            "record the superior's answer to a keberatan", {
                **_ok("answered", _obj(["keberatan", "outcome", "answered_at", "within_30_working_days"],
                                       keberatan=STR, outcome=STR, answered_at=TIME, within_30_working_days=BOOL)),
                **_errors(400, 401, 403, 404, 408, 413, 422)},
            params=[OBJECTION_REF], tag="ppid", body=_body(_obj(["outcome", "answer"], outcome={
                "enum": ["dikabulkan", "ditolak"]}, answer=STR)))},
        # -- operations (web.server): no credentials; keep them off the public internet where that matters -------
        "/healthz": {"get": _op("liveness: the process answers", _ok("alive", _obj(["status"], status={
            "const": "ok"})), tag="ops", public=True)},
        "/readyz": {"get": _op("readiness: store, connectors, router, dispatcher, replica (a library's error text "
                               "is scrubbed of credentials)", {
            **_ok("ready", schema("Readiness")),
            "503": {"description": "not ready (same body, ready false)",
                    "content": {"application/json": {"schema": schema("Readiness")}}}}, tag="ops", public=True)},
        "/metrics": {"get": _op("Prometheus metrics (text exposition format 0.0.4)", {"200": {
            "description": "metrics", "content": {"text/plain": {"schema": STR}}}}, tag="ops", public=True)},
    }
    paths.update(_keberatan_paths())
    for item in paths.values():  # what every operation can meet besides its own answers
        for op in item.values():
            if op.get("security") != []:
                op["responses"] = {**RATE_LIMITED, **op["responses"]}
            if "requestBody" in op:  # bodies are read whole, within http.body_timeout, up to max_body_bytes
                op["responses"] = {**_errors(400, 408, 413), **op["responses"]}
            op["responses"] = {**op["responses"], **INTERNAL}
    return {
        "openapi": "3.1.0",
        "info": {"title": "omnichannel API", "version": "1",
                 "description": "Citizens file complaints (the web intake) and read their status with the access "
                                "key they were given; channels deliver to their webhooks (each verified its own "
                                "way: a signature or a secret header). Officers use a personal session (cookie + "
                                "X-CSRF-Token on every change) or an agency's bearer token for machine clients. An "
                                "officer sees only their agencies' tickets; a ppid only information requests; "
                                "coordinators and admins every agency. Errors are JSON: Error on the officers' API, "
                                "Problem elsewhere."},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "agencies[*].officer_tokens or "
                                                                          "http.coordinator_tokens"},
            "session": {"type": "apiKey", "in": "cookie", "name": "omni_sesi",
                        "description": "from POST /api/v1/session; changes also need the X-CSRF-Token header"}}},
        "security": [{"bearer": []}, {"session": []}],
    }


def _owners(app: web.Application) -> list[Any]:
    """Objects (connectors) whose bound methods handle a mounted route and that describe their own paths."""
    seen: dict[int, Any] = {}
    for route in app.router.routes():
        owner = getattr(route.handler, "__self__", None)
        if owner is not None and callable(getattr(owner, "openapi", None)):
            seen.setdefault(id(owner), owner)
    return list(seen.values())


def mounted(app: web.Application) -> set[tuple[str, str]]:
    """``(method, path template)`` of every route ``app`` mounts (HEAD, which aiohttp adds to GET, aside)."""
    return {(r.method.lower(), r.resource.canonical) for r in app.router.routes()
            if r.resource is not None and r.method not in ("HEAD", "*")}


def for_app(app: web.Application, config: Any = None) -> dict[str, Any]:
    """The document for what ``app`` mounts: this module's paths and the connectors', nothing unmounted;
    with ``config``, agency codes name the configured agencies."""
    doc = document()
    codes = [a.code for a in config.agencies] if config is not None else []
    for item in doc["paths"].values():
        for op in item.values():
            params = op.get("parameters", [])
            for n, param in enumerate(params):
                if param is AGENCY_CODE and codes:
                    params[n] = {**param, "example": codes[0],
                                 "description": f"agency code from the config: {', '.join(codes)}"}
    for owner in _owners(app):
        for path, item in owner.openapi().items():
            for op in item.values():
                op["responses"] = {**op["responses"], **INTERNAL}
            doc["paths"].setdefault(path, {}).update(item)
    here = mounted(app)
    paths: dict[str, Any] = {}
    for path, item in doc["paths"].items():
        ops = {m: op for m, op in item.items() if (m, path) in here}
        if ops:
            paths[path] = ops
    doc["paths"] = paths
    return doc


def routes(config: Any = None) -> list[web.RouteDef]:
    """``GET /api/v1/openapi.json``: built on first request, when every route of the app is mounted."""
    built: dict[int, dict[str, Any]] = {}

    async def serve(request: web.Request) -> web.Response:
        doc = built.get(id(request.app))
        if doc is None:
            doc = built[id(request.app)] = for_app(request.app, config)
        return web.json_response(doc)

    return [web.get("/api/v1/openapi.json", serve)]
