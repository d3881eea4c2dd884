"""Web intake: validation, auth, limits; runs the push connector contract."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from connectors.webform.connector import WebformConfig, WebformConnector
from omnichannel.models import EnvelopeRow
from tests.contract.connector_contract import PushConnectorContract, make_context

SECRET = "s3cret-hmac-key-for-tests"


def signed(body: bytes, key: str = SECRET) -> dict[str, str]:
    sig = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Signature-256": sig, "Content-Type": "application/json"}


class TestWebformContract(PushConnectorContract):
    @pytest.fixture
    def contract_channel(self):
        return "webform"

    @pytest.fixture
    def contract_secrets(self):
        return [SECRET]

    @pytest.fixture
    def contract_make_connector(self):
        async def make():
            cfg = WebformConfig(name="contract", kind="webform", auth="hmac", token=SECRET)
            return WebformConnector("contract", cfg)
        return make

    @pytest.fixture
    def contract_request(self):
        def request(n, signed_=True, **kw):
            signed_ = kw.get("signed", signed_)
            body = json.dumps({"text": f"Sampah menumpuk di pasar nomor {n}"}).encode()
            headers = signed(body) if signed_ else {"Content-Type": "application/json"}
            headers["Idempotency-Key"] = f"form-{n}"
            return "POST", "/api/v1/complaints", headers, body
        return lambda n, signed=True: request(n, signed)


@pytest.fixture
async def client(store, tmp_path):
    cfg = WebformConfig(name="web", kind="webform", auth="bearer", token="tok-123", max_body_bytes=2048)
    conn = WebformConnector("web", cfg)
    ctx = make_context(store, tmp_path, "webform")
    await conn.start(ctx, None)
    app = web.Application()
    app.router.add_routes(conn.routes())
    c = TestClient(TestServer(app))
    await c.start_server()
    yield c
    await c.close()


AUTH = {"Authorization": "Bearer tok-123"}


async def stored(store) -> int:
    async with store.session() as s:
        return (await s.exec(select(func.count()).select_from(EnvelopeRow))).scalar_one()


@pytest.mark.parametrize("headers,body,status", [
    ({}, {"text": "jalan rusak parah"}, 401),
    ({"Authorization": "Bearer wrong"}, {"text": "jalan rusak parah"}, 401),
    (AUTH, "not json at all", 400),
    (AUTH, ["a list"], 422),
    (AUTH, {"text": ""}, 422),
    (AUTH, {"text": "jalan rusak", "unknown": 1}, 422),
    (AUTH, {"text": 123}, 422),
    (AUTH, {"text": "jalan rusak", "email": "not-an-email"}, 422),
    (AUTH, {"text": "jalan rusak", "phone": "abc"}, 422),
    (AUTH, {"text": "x" * 3000}, 413),
])
async def test_bad_requests_get_4xx_and_store_nothing(client, store, headers, body, status):
    data = body if isinstance(body, str) else json.dumps(body)
    resp = await client.post("/api/v1/complaints", data=data,
                             headers={"Content-Type": "application/json", **headers})
    assert resp.status == status, await resp.text()
    assert "error" in await resp.json()
    assert await stored(store) == 0
    ok = await client.post("/api/v1/complaints", json={"text": "drainase mampet"}, headers=AUTH)
    assert ok.status == 201  # the server keeps serving


async def test_wrong_content_type_is_415(client, store):
    resp = await client.post("/api/v1/complaints", data="text=abc", headers={**AUTH, "Content-Type": "text/plain"})
    assert resp.status == 415 and await stored(store) == 0


async def test_repeated_idempotency_key_returns_the_same_ref(client, store):
    headers = {**AUTH, "Idempotency-Key": "abc-1"}
    first = await client.post("/api/v1/complaints", json={"text": "pohon tumbang di jalan"}, headers=headers)
    again = await client.post("/api/v1/complaints", json={"text": "pohon tumbang di jalan"}, headers=headers)
    assert first.status == 201 and again.status == 200
    assert (await first.json())["complaint"] == (await again.json())["complaint"]
    assert await stored(store) == 1


async def test_phone_is_normalised_and_status_is_404_for_unknown(client):
    resp = await client.post("/api/v1/complaints", json={"text": "air PDAM mati", "phone": "0812 3456 7890"},
                             headers=AUTH)
    assert resp.status == 201
    missing = await client.get("/api/v1/complaints/ADU-2026-999999")
    assert missing.status == 404
    bad = await client.get("/api/v1/complaints/DROP TABLE")
    assert bad.status == 400


async def test_status_shows_the_answer_only_with_the_access_key(client, store):
    from sqlalchemy import update

    from omnichannel.config import Config
    from omnichannel.models import Case, Complaint, Ticket
    from omnichannel.status import complaint_status

    resp = await client.post("/api/v1/complaints", json={"text": "selokan mampet bau"}, headers=AUTH)
    body = await resp.json()
    ref, url = body["complaint"], body["status_url"]
    key = url.split("akses=", 1)[1]
    async with store.session() as s:
        s.add(Case(id=1, ref="KAS-2026-000001"))
        s.add(Ticket(ref="TIK-2026-000001", case_id=1, agency="dlh", kind="pengaduan", answer="Sudah dibersihkan"))
        await s.exec(update(Complaint).where(Complaint.ref == ref).values(case_id=1, status="routed"))
        await s.commit()
    public = await complaint_status(store, Config(), ref)
    assert "answer" not in public
    assert await complaint_status(store, Config(), ref, access="guess") is None  # a wrong key: not found
    mine = await complaint_status(store, Config(), ref, access=key)
    assert mine["answer"] == "Sudah dibersihkan"
    again = await client.post("/api/v1/complaints", json={"text": "selokan mampet bau"},
                              headers={**AUTH, "Idempotency-Key": "k1"})
    retry = await client.post("/api/v1/complaints", json={"text": "selokan mampet bau"},
                              headers={**AUTH, "Idempotency-Key": "k1"})
    assert (await again.json())["status_url"] == (await retry.json())["status_url"]


def test_phone_fast_path_agrees_with_phonenumbers():
    import random

    import phonenumbers

    from connectors.webform.connector import _MOBILE, normalise_phone

    rng = random.Random(7)
    spellings = []
    for digits in range(6, 15):
        for _ in range(40):
            national = "8" + "".join(rng.choice("0123456789") for _ in range(digits - 1))
            spellings += [f"0{national}", f"+62{national}", f"62{national}"]
    checked = 0
    for value in spellings:
        try:
            slow = phonenumbers.format_number(phonenumbers.parse(value, "ID"), phonenumbers.PhoneNumberFormat.E164) \
                if phonenumbers.is_possible_number(phonenumbers.parse(value, "ID")) else None
        except phonenumbers.NumberParseException:
            slow = None
        if _MOBILE.match(value):
            checked += 1
            assert normalise_phone(value) == slow, value
    assert checked >= 300
