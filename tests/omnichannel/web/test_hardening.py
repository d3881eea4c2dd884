"""Hardening of every public HTTP endpoint: whole bodies, 4xx for bad input, timeouts, the catch-all,
secrets never shown, idempotency bound to client and body, rate limits, status not enumerable."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from omnichannel.config import parse_config
from omnichannel.errors import ConfigError
from omnichannel.logs import setup_logging
from omnichannel.web.server import make_app
from tests.omnichannel.web.hardening import (
    COORD,
    PUPR,
    TG_PATH,
    TG_SECRET,
    WA_PATH,
    post_head,
    raw_request,
    running,
    tg_body,
    wa_body,
    wa_headers,
)

FORM = "/api/v1/complaints"
JSON = {"Content-Type": "application/json"}


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


# -- whole bodies ------------------------------------------------------------------------------------
async def test_bodies_split_across_tcp_writes_are_read_whole(tmp_path):
    async with running(tmp_path) as (_, base, _sb):
        port = port_of(base)
        form = json.dumps({"text": "lampu jalan mati di gang mawar sejak seminggu"}).encode()
        for _ in range(3):
            status, body = await raw_request(port, post_head(FORM, len(form)), [form[:10], form[10:]])
            assert status == 201, body
        wa = wa_body()
        status, body = await raw_request(port, post_head(WA_PATH, len(wa), wa_headers(wa)), [wa[:50], wa[50:]])
        assert status == 200, body
        tg = tg_body()
        status, body = await raw_request(port, post_head(TG_PATH, len(tg), {
            "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TG_SECRET}), [tg[:20], tg[20:]])
        assert status == 200, body


async def test_bodies_past_the_limit_are_413_even_when_signed_or_chunked(tmp_path):
    async with running(tmp_path) as (_, base, _sb):
        port = port_of(base)
        big = wa_body("x" * 70_000)  # the WhatsApp route's limit is 64 KiB here
        status, _ = await raw_request(port, post_head(WA_PATH, len(big), wa_headers(big)), [big[:1000], big[1000:]])
        assert status == 413
        async with aiohttp.ClientSession() as http:
            async def chunks():  # no Content-Length: only reading tells the size
                for _ in range(10):
                    yield b"x" * 1000
            async with http.post(base + FORM, data=chunks(), headers=JSON) as resp:
                assert resp.status == 413
            async with http.post(base + TG_PATH, data=b"{" * 2_000_000, headers={
                    "X-Telegram-Bot-Api-Secret-Token": TG_SECRET}) as resp:
                assert resp.status == 413


# -- bad input: a 4xx with a reason, at most one WARNING, never a traceback ----------------------------
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_SMALL = b"[" * 2000 + b"]" * 2000  # past the recursion limit, within the form's 8 KiB
HUGE_INT = b'{"text": "jalan rusak parah", "n": ' + b"9" * 5000 + b"}"


def bad_requests():
    wa_deep = DEEP_SMALL  # within the route's limit, correctly signed: kept in quarantine (200), never a 500
    return [
        ("form deep JSON", "POST", FORM, JSON, DEEP_SMALL),
        ("form deep object", "POST", FORM, JSON, b'{"text": "jalan rusak", "location": ' + b'{"a":' * 40 + b"1"
         + b"}" * 41),
        ("form huge int", "POST", FORM, JSON, HUGE_INT),
        ("form NaN", "POST", FORM, JSON, b'{"text": "jalan rusak parah", "location": {"lat": NaN}}'),
        ("form Infinity", "POST", FORM, JSON, b'{"text": "jalan rusak parah", "location": {"lat": Infinity}}'),
        ("form non-ASCII akses", "GET", FORM + "/ADU-2026-000001?akses=%C3%A9%FF", {}, b""),
        ("wa deep JSON signed", "POST", WA_PATH, wa_headers(wa_deep), wa_deep),
        ("wa non-ASCII signature", "POST", WA_PATH, {"X-Hub-Signature-256": "sha256=\xe9\xff"}, wa_body()),
        ("wa non-ASCII verify", "GET", WA_PATH + "?hub.mode=subscribe&hub.verify_token=%C3%A9&hub.challenge=1", {}, b""),
        ("tg deep JSON", "POST", TG_PATH, {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}, DEEP),
        ("tg UTF-16 body", "POST", TG_PATH, {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
         tg_body().decode().encode("utf-16")),
        ("tg huge int", "POST", TG_PATH, {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
         b'{"update_id": ' + b"1" * 5000 + b"}"),
        ("tg non-ASCII secret", "POST", TG_PATH, {"X-Telegram-Bot-Api-Secret-Token": "\xe9\xff"}, tg_body()),
        ("officer non-ASCII auth", "GET", "/api/v1/agencies/pupr/tickets", {"Authorization": "Bearer \xe9\xff"}, b""),
        ("officer huge offset", "GET", "/api/v1/agencies/pupr/tickets?offset=9223372036854775808",
         {"Authorization": f"Bearer {PUPR}"}, b""),
        ("officer NUL status", "GET", "/api/v1/agencies/pupr/tickets?status=a%00b", {"Authorization": f"Bearer {PUPR}"},
         b""),
        ("officer NUL ref", "GET", "/api/v1/tickets/TIK%00X", {"Authorization": f"Bearer {COORD}"}, b""),
        ("officer deep JSON", "POST", "/api/v1/tickets/TIK-2026-000001/status",
         {"Authorization": f"Bearer {COORD}", **JSON}, DEEP),
        ("officer huge int", "POST", "/api/v1/tickets/TIK-2026-000001/status",
         {"Authorization": f"Bearer {COORD}", **JSON}, b'{"status": ' + b"7" * 5000 + b"}"),
    ]


async def send_raw(port: int, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
    """A request whose header bytes go out exactly as given (latin-1), which aiohttp's client would refuse."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}", "Connection: close",
             *(f"{k}: {v}" for k, v in headers.items())]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    status, _ = await raw_request(port, head + body, [])
    return status


@pytest.mark.parametrize("case", bad_requests(), ids=lambda c: c[0])
async def test_bad_input_is_a_4xx_with_one_warning_at_most(tmp_path, case):
    _, method, path, headers, body = case
    stream = io.StringIO()
    async with running(tmp_path) as (_, base, _sb):
        setup_logging("INFO", stream=stream)
        try:
            status = await send_raw(port_of(base), method, path, headers, body)
        finally:
            logging.getLogger().handlers = [h for h in logging.getLogger().handlers
                                            if not getattr(h, "_omnichannel", False)]
        logged = stream.getvalue()
    expected = (200, 200) if case[0] == "wa deep JSON signed" else (400, 499)
    assert expected[0] <= status <= expected[1], (status, logged)
    assert "ERROR" not in logged and "Traceback" not in logged, logged
    assert logged.count("WARNING") <= 1, logged


async def test_form_answers_a_reason_for_each_bad_body(tmp_path):
    async with running(tmp_path) as (_, base, _sb), aiohttp.ClientSession() as http:
        for body, status, reason in ((DEEP_SMALL, 422, "nested"), (DEEP, 413, "larger"), (HUGE_INT, 400, "malformed"),
                                     (b'{"text": "jalan rusak", "n": NaN}', 422, "NaN")):
            async with http.post(base + FORM, data=body, headers=JSON) as resp:
                assert resp.status == status
                assert reason in (await resp.json())["error"]


async def test_unexpected_errors_are_500_with_a_request_id_and_one_error_line():
    stream = io.StringIO()
    setup_logging("INFO", stream=stream)

    async def broken(_: web.Request) -> web.Response:
        raise RuntimeError("a bug with a secret-free message")

    from omnichannel.config import HttpConfig

    app = make_app(HttpConfig())
    app.router.add_get("/broken", broken)
    try:
        async with TestClient(TestServer(app)) as client:
            resp = await client.get("/broken")
            doc = await resp.json()
    finally:
        logging.getLogger().handlers = [h for h in logging.getLogger().handlers if not getattr(h, "_omnichannel", False)]
    assert resp.status == 500 and doc["request_id"] and resp.headers["X-Request-Id"] == doc["request_id"]
    lines = [line for line in stream.getvalue().splitlines() if line.strip() and "aiohttp.access" not in line]
    assert len(lines) == 1 and "ERROR" in lines[0] and doc["request_id"] in lines[0] and "RuntimeError" in lines[0]


async def test_slow_headers_and_slow_bodies_are_cut_off(tmp_path):
    async with running(tmp_path) as (_, base, _sb):
        port = port_of(base)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /api/v1/complaints HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        await writer.drain()
        closed = await asyncio.wait_for(reader.read(), 20)  # header_timeout is 1 s here
        assert closed == b""
        writer.close()
        status, body = await raw_request(port, post_head(FORM, 100), [b'{"text": "jal'], pause=0.01,
                                         read_timeout=20)  # 13 of 100 bytes, then silence
        assert status == 408, body


async def test_client_leaving_mid_body_logs_no_error(tmp_path):
    stream = io.StringIO()
    async with running(tmp_path) as (_, base, _sb):
        setup_logging("INFO", stream=stream)
        try:
            for path, headers in ((TG_PATH, {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}), (FORM, {}),
                                  (WA_PATH, {})):
                reader, writer = await asyncio.open_connection("127.0.0.1", port_of(base))
                writer.write(post_head(path, 5000, {**JSON, **headers}) + b'{"update_id": 1, ')
                await writer.drain()
                await asyncio.sleep(0.1)
                writer.transport.abort()
            await asyncio.sleep(0.5)
        finally:
            logging.getLogger().handlers = [h for h in logging.getLogger().handlers
                                            if not getattr(h, "_omnichannel", False)]
    assert "ERROR" not in stream.getvalue() and "Traceback" not in stream.getvalue(), stream.getvalue()


# -- secrets -----------------------------------------------------------------------------------------
async def test_a_refused_bot_token_never_reaches_readyz_or_the_logs(tmp_path):
    stream = io.StringIO()
    setup_logging("DEBUG", stream=stream)
    wrong = "987654321:WRONG-token-that-must-stay-secret"
    try:
        from omnichannel.sandbox.telegram import TelegramSandbox
        from tests.conftest import free_port

        async with TelegramSandbox() as sandbox:
            text = (f"data_dir: {tmp_path}/data\nhttp: {{host: 127.0.0.1, port: {free_port()}}}\n"
                    "connectors:\n  - {name: tg, kind: telegram, token: '${TG}', base_url: '"
                    + sandbox.base_url + "', poll_interval: 0.2}\n")
            from omnichannel.daemon import Daemon

            daemon = Daemon(parse_config(text, env={"TG": wrong}))
            await daemon.start()
            try:
                for _ in range(100):
                    if daemon.connector_health()["tg"]["state"] == "parked":
                        break
                    await asyncio.sleep(0.1)
                async with aiohttp.ClientSession() as http, \
                        http.get(f"http://127.0.0.1:{daemon.http_port}/readyz") as resp:
                    ready = await resp.text()
            finally:
                await daemon.stop()
    finally:
        logging.getLogger().handlers = [h for h in logging.getLogger().handlers if not getattr(h, "_omnichannel", False)]
    assert "parked" in ready and "refused the bot token" in ready
    assert wrong not in ready and "WRONG-token" not in ready
    logged = stream.getvalue()
    assert "refused the bot token" in logged and wrong not in logged and "WRONG-token" not in logged


@pytest.mark.parametrize(("yaml", "key"), [
    ("connectors:\n  - {name: wa, kind: whatsapp, verify_token: '${A}', app_secret: '${B}', access_token: '${C}', "
     "phone_number_id: '10654035224'}\n", "app_secret"),
    ("connectors:\n  - {name: wa, kind: whatsapp, verify_token: '${B}', app_secret: '${A}', access_token: '${C}', "
     "phone_number_id: '10654035224'}\n", "verify_token"),
    ("connectors:\n  - {name: tg, kind: telegram, token: '${B}'}\n", "token"),
    ("connectors:\n  - {name: tg, kind: telegram, token: '${A}', mode: webhook, webhook_secret: '${W}'}\n",
     "webhook_secret"),
    ("connectors:\n  - {name: web, kind: webform, auth: bearer, token: '${B}'}\n", "connectors[0]"),
    ("connectors:\n  - {name: web, kind: webform, auth: hmac}\n", "connectors[0]"),
    ("agencies:\n  - {code: pupr, name: PUPR, officer_tokens: ['${W}']}\n", "officer_tokens[0]"),
    ("http: {coordinator_tokens: ['${W}']}\n", "coordinator_tokens[0]"),
])
def test_empty_or_whitespace_secrets_are_refused_at_load(yaml, key):
    for blank in ("", "   ", "\t\n"):
        env = {"A": "a-good-secret-1", "B": blank, "C": "c-good-secret-1", "W": blank or " "}
        with pytest.raises(ConfigError) as info:
            parse_config(yaml, env=env)
        assert key in str(info.value)


def test_unset_officer_tokens_in_the_shipped_config_still_load():
    shipped = (Path(__file__).resolve().parents[3] / "config.yaml").read_text()
    env = {k: "a-good-secret-1" for k in ("TELEGRAM_BOT_TOKEN", "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_APP_SECRET",
                                          "WHATSAPP_VERIFY_TOKEN", "X_BEARER_TOKEN", "IMAP_PASSWORD", "LAPOR_TOKEN")}
    config = parse_config(shipped, env=env)
    assert config.http.rate_limits.enabled is True
    assert parse_config(shipped, env={**env, "OMNICHANNEL_RATE_LIMITS": "false"}).http.rate_limits.enabled is False


# -- idempotency -------------------------------------------------------------------------------------
async def test_idempotency_keys_belong_to_one_client_and_one_body(tmp_path):
    async with running(tmp_path) as (_, base, _sb), aiohttp.ClientSession() as http:
        alice = {**JSON, "Idempotency-Key": "k-1", "X-Forwarded-For": "203.0.113.5"}
        mallory = {**JSON, "Idempotency-Key": "k-1", "X-Forwarded-For": "198.51.100.9"}
        form = {"text": "pohon tumbang menutup jalan desa", "phone": "081234567890"}
        async with http.post(base + FORM, json=form, headers=alice) as resp:
            first = await resp.json()
            assert resp.status == 201
        async with http.post(base + FORM, json=form, headers=alice) as resp:
            assert resp.status == 200 and (await resp.json())["status_url"] == first["status_url"]
        async with http.post(base + FORM, json={**form, "text": "lain sama sekali isinya"}, headers=alice) as resp:
            assert resp.status == 409 and "error" in await resp.json()
        async with http.post(base + FORM, json={"text": "pohon tumbang menutup jalan desa"}, headers=mallory) as resp:
            theirs = await resp.json()
            assert resp.status == 201 and theirs["complaint"] != first["complaint"]
            assert theirs["status_url"] != first["status_url"]


# -- rate limits -------------------------------------------------------------------------------------
async def test_intake_is_rate_limited_per_client_and_overall(tmp_path):
    async with running(tmp_path, limits=True) as (_, base, _sb), aiohttp.ClientSession() as http:
        async def post(client: str) -> aiohttp.ClientResponse:
            async with http.post(base + FORM, json={"text": "jalan rusak parah sekali"},
                                 headers={"X-Forwarded-For": client}) as resp:
                await resp.read()
                return resp

        statuses = [(await post("203.0.113.1")).status for _ in range(4)]
        assert statuses == [201, 201, 201, 429]
        refused = await post("203.0.113.1")
        assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
        assert (await post("203.0.113.2")).status == 201  # another client is not held back
        overall = [(await post(f"198.51.100.{n}")).status for n in range(10)]
        assert 429 in overall  # 8 at once for everyone together


async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path):
    async with running(tmp_path, limits=True, http_extra="") as (daemon, base, _sb):
        from omnichannel.web.limits import RateLimiter

        untrusted = RateLimiter(daemon.config.http.model_copy(update={"trusted_proxies": []}))
        trusted = RateLimiter(daemon.config.http)

        class Req:
            remote = "127.0.0.1"
            headers = None

        from multidict import CIMultiDict, CIMultiDictProxy

        Req.headers = CIMultiDictProxy(CIMultiDict([("X-Forwarded-For", "1.2.3.4, 203.0.113.7")]))
        assert untrusted.client(Req) == "127.0.0.1"
        assert trusted.client(Req) == "203.0.113.7"
        Req.headers = CIMultiDictProxy(CIMultiDict([("X-Forwarded-For", "not an address")]))
        assert trusted.client(Req) == "127.0.0.1"


async def test_status_lookups_and_logins_are_rate_limited(tmp_path):
    async with running(tmp_path, limits=True) as (_, base, _sb), aiohttp.ClientSession() as http:
        seen = []
        for _ in range(5):
            async with http.get(base + FORM + "/ADU-2026-000001?akses=abc") as resp:
                seen.append(resp.status)
        assert seen[:3] == [404, 404, 404] and seen[3:] == [429, 429]
        tickets = base + "/api/v1/agencies/pupr/tickets"
        wrong = [(await http.get(tickets, headers={"Authorization": "Bearer guess"})).status for _ in range(4)]
        assert wrong == [401, 401, 401, 429]
        async with http.get(tickets, headers={"Authorization": f"Bearer {PUPR}"}) as resp:
            assert resp.status == 429 and resp.headers["Retry-After"]  # not even a right token, for a while
        async with http.get(tickets, headers={"Authorization": f"Bearer {PUPR}",
                                              "X-Forwarded-For": "203.0.113.99"}) as resp:
            assert resp.status == 200  # another officer's machine


# -- status --------------------------------------------------------------------------------------------
async def test_status_needs_the_access_key_so_refs_cannot_be_enumerated(tmp_path):
    async with running(tmp_path) as (_, base, _sb), aiohttp.ClientSession() as http:
        async with http.post(base + FORM, json={"text": "drainase mampet di depan sekolah"}) as resp:
            doc = await resp.json()
        ref = doc["complaint"]
        async with http.get(base + doc["status_url"]) as resp:
            assert resp.status == 200 and (await resp.json())["complaint"] == ref
        for query in ("", "?akses=", "?akses=wrong", "?akses=%C3%A9"):
            async with http.get(f"{base}{FORM}/{ref}{query}") as resp:
                assert resp.status == 404
                assert "agency" not in await resp.json()


async def test_an_officer_answer_with_a_lone_surrogate_is_stored_not_500(tmp_path):
    """Found by the fuzz test: the answer went into the store as it was and the database refused it."""
    async with running(tmp_path) as (daemon, base, _sb), aiohttp.ClientSession() as http:
        from omnichannel.models import Case, Ticket

        async with daemon.store.session() as s:
            s.add(Case(id=900, ref="KAS-2026-000900", title="Jalan rusak"))
            await s.flush()
            s.add(Ticket(ref="TIK-2026-000001", case_id=900, agency="pupr", kind="pengaduan"))
            await s.commit()
        async with http.post(base + "/api/v1/tickets/TIK-2026-000001/reply", data=b'{"text": "sudah \\ud800 \\u0000"}',
                             headers={"Authorization": f"Bearer {PUPR}", **JSON}) as resp:
            assert resp.status == 201, await resp.text()
        async with daemon.store.session() as s:
            from sqlalchemy import select

            answer = (await s.exec(select(Ticket.answer))).scalars().one()
        assert answer == "sudah \ufffd \ufffd"
