"""Fuzz every HTTP route of a running daemon (web form, WhatsApp and Telegram webhooks, the officer API,
ops endpoints, pages): whatever arrives, the answer is never a 5xx.

Bodies are random bytes, random JSON (huge integers, deep nesting, NUL and lone surrogates in strings),
and payloads that pass each route's authentication (a correctly signed WhatsApp delivery, the Telegram
secret, an officer's token) so the parsers behind it are reached too.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.omnichannel.web.hardening import COORD, PUPR, TG_PATH, TG_SECRET, WA_PATH, Live, wa_headers

pytestmark = pytest.mark.slow

EXAMPLES_PER_ROUTE = 60


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    server = Live(tmp_path_factory.mktemp("fuzz"))
    try:
        yield server
    finally:
        server.close()


# -- strategies --------------------------------------------------------------------------------------
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60)
segment = st.one_of(st.sampled_from(["ADU-2026-000001", "TIK-2026-000001", "pupr", "dinkes", "x" * 300]),
                    st.text(max_size=30).map(lambda t: quote(t, safe="")))
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
                        st.floats(allow_nan=False, allow_infinity=False),
                        st.text(st.characters(codec=None), max_size=40))
json_value = st.recursive(json_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=20)
form_like = st.fixed_dictionaries({}, optional={
    "text": st.one_of(st.text(min_size=3, max_size=60), st.text(max_size=60), json_scalar), "subject": json_scalar, "name": json_scalar,
    "email": st.one_of(st.emails(), json_scalar), "phone": st.one_of(st.sampled_from(["081234567890", "+62 812"]),
                                                                     json_scalar),
    "location": json_value, "anonymous": json_scalar, "confidential": json_scalar, "status": json_scalar,
    "note": json_scalar, "update_id": json_scalar, "message": json_value, "entry": json_value,
    "object": json_scalar})


valid_form = st.fixed_dictionaries(
    {"text": st.text(st.characters(categories=["L", "N", "Zs", "P"]), min_size=5, max_size=80).filter(
        lambda t: len(t.strip()) >= 3)},
    optional={"name": st.text(max_size=30), "phone": st.sampled_from(["081234567890", "0812-3456-7891"]),
              "email": st.emails(), "location": st.one_of(st.text(max_size=20), st.dictionaries(
                  st.sampled_from(["lat", "lon", "text"]), json_scalar, max_size=3)),
              "anonymous": st.booleans(), "status": st.sampled_from(["diproses", "selesai", "x"]),
              "note": st.text(max_size=20)})


def encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode()


special_bodies = st.sampled_from([
    b"", b"{", b"null", b"[]", b"NaN", b'{"text": NaN}', b"[" * 5000 + b"]" * 5000, b'{"a": ' + b"9" * 5000 + b"}",
    "{\"text\": \"é\"}".encode("utf-16"), b"\xff\xfe\x00", b'{"text": "\\ud800\\u0000 jalan rusak"}',
    b'{"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}, "text": "\\ud800"}}',
])
body = st.one_of(st.binary(max_size=200), json_value.map(encode), form_like.map(encode), valid_form.map(encode),
                special_bodies)
headers = st.fixed_dictionaries({}, optional={
    "Content-Type": st.one_of(st.sampled_from(["application/json", "text/plain", "application/json; charset=utf-16",
                                               "multipart/form-data"]), header_text),
    "Authorization": st.one_of(st.sampled_from([f"Bearer {PUPR}", f"Bearer {COORD}", "Bearer", "Basic x"]),
                               header_text),
    "X-Hub-Signature-256": header_text, "X-Telegram-Bot-Api-Secret-Token": st.one_of(st.just(TG_SECRET), header_text),
    "Idempotency-Key": header_text, "X-Forwarded-For": header_text, "Accept": header_text,
})
query = st.dictionaries(st.sampled_from(["akses", "limit", "offset", "status", "overdue", "hub.mode",
                                         "hub.verify_token", "hub.challenge"]),
                        st.one_of(st.text(max_size=20), st.sampled_from(["9223372036854775808", "-1", "1e9"])),
                        max_size=3)


@st.composite
def requests(draw: st.DrawFn, routes: list[tuple[str, str]], only: int) -> tuple[str, str, dict[str, str], bytes]:
    index = only
    method, template = routes[index]
    method = draw(st.sampled_from([method] * 8 + ["GET", "POST", "PUT", "DELETE", "PATCH"]))
    path = template
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        known = {"{code}": "pupr", "{ref}": "TIK-2026-000001" if "/tickets/" in template else "ADU-2026-000001"}
        filler = draw(st.one_of(st.just(known.get(path[start:end + 1], "x")), segment))
        path = path[:start] + filler + path[end + 1:]
    params = draw(query)
    if params:
        path += "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items())
    payload = draw(body)
    hdrs = draw(headers)
    hdrs.setdefault("Content-Type", "application/json")
    if template.startswith("/webhooks/") and "telegram" not in template and draw(st.booleans()):
        hdrs.update(wa_headers(payload))  # past the signature: the parser is what is tested
    if template.startswith("/api/v1/") and draw(st.booleans()):
        hdrs["Authorization"] = f"Bearer {draw(st.sampled_from([PUPR, COORD]))}"
    if template == TG_PATH and draw(st.booleans()):
        hdrs["X-Telegram-Bot-Api-Secret-Token"] = TG_SECRET
    hdrs["X-Fuzz-Route"] = str(index)
    return method, path, hdrs, payload


def request_route(request: tuple[str, str, dict[str, str], bytes], routes: list[tuple[str, str]]) -> tuple[str, str]:
    """The route a generated request was made from (``requests`` tags it in its headers)."""
    tag = request[2].pop("X-Fuzz-Route")
    return routes[int(tag)]


def test_no_route_answers_5xx(live: Live) -> None:
    assert (("POST", WA_PATH) in live.routes and ("POST", TG_PATH) in live.routes
            and any("/api/v1/tickets" in r for _, r in live.routes))
    tally: dict[tuple[str, str], Counter[int]] = {}
    for route in live.routes:
        tally[route] = Counter()

        @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(requests(live.routes, only=live.routes.index(route)))
        def check(request: tuple[str, str, dict[str, str], bytes]) -> None:
            method, path, hdrs, payload = request
            status, text = live.send(method, path, hdrs, payload)
            tally[request_route(request, live.routes)][status] += 1
            assert status < 500, (method, path, hdrs, payload[:200], status, text)

        check()
    for route, seen in tally.items():
        print(route, sorted(seen.items()))
        assert sum(seen.values()) >= EXAMPLES_PER_ROUTE
    statuses = sum(tally.values(), Counter())
    assert statuses[201] and statuses[200] and statuses[401] and statuses[422] and statuses[400]
