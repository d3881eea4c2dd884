"""The OpenAPI 3.1 document at ``/api/v1/openapi.json`` against a whole running daemon (web intake, WhatsApp,
Telegram, Facebook and Instagram webhooks, the officer, PPID and session APIs, the dashboard, the ops endpoints):

- every route the aiohttp app mounts is documented (HTML pages aside, listed below), and the document is
  valid OpenAPI 3.1;
- schemathesis generates requests for every documented operation (valid and invalid ones) as an anonymous
  client, a coordinator's bearer token and an admin's login session (cookie + X-CSRF-Token), and checks that
  no answer is a 5xx and that every status code, content type and body is the one documented.

Runs are bounded and deterministic (a few examples an operation, ``derandomize``) so the module takes seconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.omnichannel.web.hardening import COORD, TG_PATH, WA_PATH, Live

# Routes that are not an API and are not in the document: HTML pages people read in a browser.
NOT_API = {
    ("get", "/"),              # the citizen's complaint form (web.ui)
    ("get", "/petugas"),       # the officers' desk page (web.ui)
    ("get", "/dasbor"),        # the performance dashboard page and its HTML login form (web.dashboard)
    ("post", "/dasbor/masuk"),
    ("post", "/dasbor/keluar"),
    ("get", "/status/{ref}"),  # the citizen's status page with the keberatan form, and that form's post
    ("post", "/status/{ref}/keberatan"),  # (web.keberatan; the JSON filing is POST {intake}/{ref}/keberatan)
}
ADMIN_PASSWORD = "admin-password-123"
EXAMPLES = 6  # per operation, caller and generation mode


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    server = Live(tmp_path_factory.mktemp("openapi"))
    try:
        server.run(_seed(server))
        yield server
    finally:
        server.close()


async def _seed(server: Live) -> None:
    """An admin account, and a second case whose ref is the document's example (the fixture has TIK-2026-000001)."""
    from omnichannel import users
    from omnichannel.models import Case, Complaint, Ticket

    async with server.daemon.store.session() as s:
        await users.add_user(s, "admin", "Admin", "admin", [], ADMIN_PASSWORD, "test")
        s.add(Case(id=901, ref="KAS-2026-000001", title="Lampu jalan mati"))
        await s.flush()
        s.add(Complaint(id=901, ref="ADU-2026-900001", connector="web", channel="webform", text="Lampu jalan mati",
                        status="routed", case_id=901, agency="pupr"))
        s.add(Ticket(ref="TIK-2026-000002", case_id=901, agency="pupr", kind="pengaduan"))
        await s.commit()


def test_every_mounted_route_is_documented_and_the_document_is_openapi_3_1(live: Live) -> None:
    doc = requests.get(live.base + "/api/v1/openapi.json", timeout=30).json()
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    app = live.daemon.http_runner.app
    routes = {(r.method.lower(), r.resource.canonical) for r in app.router.routes()
              if r.resource is not None and r.method != "HEAD"}
    # the fixture mounts every kind of route there is: intake, each webhook, officer, PPID, session, ops, pages
    for must in [("post", "/api/v1/complaints"), ("get", "/api/v1/complaints/{ref}"), ("post", TG_PATH),
                 ("get", WA_PATH), ("post", WA_PATH), ("post", "/webhooks/facebook/fb"),
                 ("post", "/webhooks/instagram/ig"), ("get", "/api/v1/tickets"),
                 ("post", "/api/v1/tickets/{ref}/decision"), ("post", "/api/v1/session"), ("get", "/readyz"),
                 ("get", "/dasbor")]:
        assert must in routes, must
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert routes - NOT_API == documented, {"undocumented": routes - NOT_API - documented,
                                            "documented but not mounted": documented - routes}
    assert not NOT_API & documented
    for (method, path) in documented:
        op = doc["paths"][path][method]
        assert op["summary"] and any(code.startswith("2") for code in op["responses"]), (method, path)
        assert "500" in op["responses"], (method, path)
        for code, answer in op["responses"].items():
            assert answer["description"] and answer.get("content"), (method, path, code)
        for param in op.get("parameters", []):
            if param["in"] == "path":
                assert "{" + param["name"] + "}" in path, (method, path, param)


def _admin_session(base: str) -> tuple[dict[str, str], dict[str, str]]:
    """Cookies and headers of a logged-in admin (the real login: argon2, cookie, CSRF token)."""
    resp = requests.post(base + "/api/v1/session", json={"login": "admin", "password": ADMIN_PASSWORD}, timeout=30)
    assert resp.status_code == 200, resp.text
    return dict(resp.cookies), {"X-CSRF-Token": resp.json()["csrf"]}


def test_schemathesis_finds_no_5xx_and_every_answer_is_documented(live: Live) -> None:
    schema = schemathesis.openapi.from_url(live.base + "/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 35
    cookies, csrf = _admin_session(live.base)
    callers: dict[str, dict[str, Any]] = {
        "anonymous": {},
        "coordinator token": {"headers": {"Authorization": f"Bearer {COORD}"}},
        "admin session": {"headers": csrf, "cookies": cookies},
    }
    seen: dict[str, Counter[int]] = {}
    failures: list[str] = []
    http = requests.Session()
    for op in operations:
        for who, auth in callers.items():
            if who == "admin session" and op.path == "/api/v1/session/logout":
                continue  # it would end the session the other operations use; anonymous covers it
            # a request can only be made invalid through a parameter or a body
            invalid = bool(op.path_parameters or op.query or op.headers or op.body)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if invalid else (GenerationMode.POSITIVE,):
                try:
                    _run(op, mode, live.base, http, auth, seen)
                except Exception as exc:  # noqa: BLE001 (collected: one report of every mismatch found)
                    failures.append(f"{op.method.upper()} {op.path} as {who}, {mode.value}: {exc}"[:3000])
    http.close()
    for label, statuses in sorted(seen.items()):
        print(label, dict(sorted(statuses.items())))
    assert not failures, "\n\n".join(failures)
    # every operation was exercised, and the runs got past authentication and validation somewhere
    assert set(seen) == {f"{op.method.upper()} {op.path}" for op in operations}
    statuses = sum(seen.values(), Counter())
    assert statuses[200] and statuses[201] and statuses[401] and statuses[404] and statuses[400], statuses
    authorised = seen["GET /api/v1/tickets"]
    assert authorised[200] and authorised[401], authorised


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _run(op: Any, mode: GenerationMode, base: str, http: requests.Session, auth: dict[str, Any],
         seen: dict[str, Counter[int]]) -> None:
    """``EXAMPLES`` generated requests for one operation, each answer checked against the document."""
    label = f"{op.method.upper()} {op.path}"
    # /readyz answers a documented 503 while a connector is not ready: that is its purpose, not a fault
    checks = [c for c in CHECKS if not (op.path == "/readyz" and c is not_a_server_error)]

    strategy = op.as_strategy(generation_mode=mode)
    if mode is GenerationMode.POSITIVE:  # the document's examples (a ticket and an agency that exist) as well
        strategy = st.one_of(*op.get_strategies_from_examples(), strategy)

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def check(case: Any) -> None:
        if auth:  # the caller's own credentials, not ones generated from the security schemes
            for name in ("Authorization", "authorization"):
                (case.headers or {}).pop(name, None)
            (case.cookies or {}).pop("omni_sesi", None)
        headers = {**(case.headers or {}), **auth.get("headers", {})}
        response = case.call(base_url=base, session=http, headers=headers, cookies=auth.get("cookies"), timeout=30)
        seen.setdefault(label, Counter())[response.status_code] += 1
        case.validate_response(response, checks=checks, headers=headers)

    check()


def test_the_ppid_endpoints_take_a_login_session_and_refusals_keep_the_documented_shape(live: Live) -> None:
    """Found while writing the document: the PPID routes ignored login sessions (a logged-in ppid got 401). And
    the login reads its body like every other officer route (64 KiB at most, within the body timeout), so a
    body past the server's limit is a 413 in the officers' Error shape, not the catch-all's."""
    cookies, csrf = _admin_session(live.base)
    url = live.base + "/api/v1/tickets/TIK-2026-000001/extend"
    refused = requests.post(url, json={"note": "butuh waktu"}, cookies=cookies, timeout=30)
    assert refused.status_code == 403 and refused.json()["error"] == "csrf"  # a session, so CSRF is checked
    answered = requests.post(url, json={"note": "butuh waktu"}, cookies=cookies, headers=csrf, timeout=30)
    assert answered.status_code == 422, answered.text  # past the session: a pengaduan has no PPID deadline
    assert set(answered.json()) == {"error", "reason"}
    big = requests.post(live.base + "/api/v1/session", data=b'{"login": "' + b"a" * 200_000 + b'"}',
                        headers={"Content-Type": "application/json"}, timeout=30)
    assert big.status_code == 413 and set(big.json()) == {"error", "reason"}, big.text
