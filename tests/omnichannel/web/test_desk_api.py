"""The officers' desk over HTTP: personal accounts and sessions (cookie, CSRF, lockout, logout), the queue with
filters and search, history, assignment, notes, canned replies, reassignment, and access per agency and role."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import ClientSession, CookieJar, web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from sqlalchemy import select

from omnichannel import search as search_index
from omnichannel import users
from omnichannel.models import (
    AuditEvent,
    Case,
    Complaint,
    Correction,
    Counter,
    EnvelopeRow,
    OutboxRow,
    Ticket,
    User,
)
from omnichannel.templates import Templates
from omnichannel.types import utcnow
from omnichannel.web.desk import routes
from router.delivery.desk import AnswerDesk
from tests.omnichannel.web.test_officer_api import COORD, PUPR, make_config, seed

PASSWORD = "kata-sandi-rahasia-1"
HASH = PasswordHasher().hash(PASSWORD)
ACCOUNTS = [("ani", "Ani Lestari", "petugas", ["dpupr"]), ("budi", "Budi Santoso", "petugas", ["dinkes"]),
            ("kora", "Kora Wibowo", "koordinator", []), ("dewi", "Dewi PPID", "ppid", []),
            ("adm", "Admin Kota", "admin", []), ("pim", "Pak Walikota", "pimpinan", [])]


async def seed_desk(store: Any) -> None:
    """The officer API's two tickets plus an information request for dinkes (TIK-...03) and the accounts."""
    await seed(store)
    now = utcnow()
    async with store.session() as s:
        s.add(Case(id=3, ref="KAS-2026-000003", title=None, complaint_count=1, reporter_count=1,
                   location={"kelurahan": "Pleburan", "kecamatan": "Semarang Selatan"}))
        await s.flush()
        s.add(EnvelopeRow(id=5, connector="web", channel="webform", external_id="e5", received_at=now, raw=b"{}",
                          origin={"session": "s5"}))
        await s.flush()
        s.add(Complaint(id=5, ref="ADU-2026-000005", envelope_id=5, reporter_id=2, connector="web", channel="webform",
                        subject=None, text="Mohon data anggaran perbaikan drainase 2026\nterima kasih",
                        status="routed", case_id=3, agency="dinkes", kind="informasi"))
        s.add(Ticket(id=3, ref="TIK-2026-000003", case_id=3, agency="dinkes", kind="informasi",
                     sla_due=now + timedelta(hours=5)))
        for login, name, role, agencies in ACCOUNTS:  # one argon2 hash for all: hashing is slow on purpose
            users.check_account(login, role, agencies, make_config())
            s.add(User(login=login, name=name, role=role, agencies=agencies, password_hash=HASH))
        s.add(Counter(name="ticket", value=3))
        await s.commit()


@pytest_asyncio.fixture
async def desk(store: Any) -> AsyncIterator[tuple[TestServer, Any]]:
    await seed_desk(store)
    app = web.Application()
    app.router.add_routes(routes(store, make_config(), Templates(), AnswerDesk()))
    server = TestServer(app)
    await server.start_server()
    try:
        yield server, store
    finally:
        await server.close()


class Reply:
    """A read response: status, headers, body."""

    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    async def json(self) -> Any:
        return json.loads(self.body)

    async def text(self) -> str:
        return self.body.decode()


class Client:
    """A browser-like client of one test server (its own cookie jar); several share the server."""

    def __init__(self, server: TestServer) -> None:
        self.http = ClientSession(base_url=str(server.make_url("")), cookie_jar=CookieJar(unsafe=True))

    async def request(self, method: str, path: str, **kw: Any) -> Reply:
        async with self.http.request(method, path, **kw) as resp:
            return Reply(resp.status, resp.headers, await resp.read())

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> Reply:
        return await self.request("POST", path, **kw)

    async def put(self, path: str, **kw: Any) -> Reply:
        return await self.request("PUT", path, **kw)

    async def delete(self, path: str, **kw: Any) -> Reply:
        return await self.request("DELETE", path, **kw)

    async def close(self) -> None:
        await self.http.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.close()


async def login(server: TestServer, who: str) -> tuple[Client, dict[str, str]]:
    """A client logged in as ``who``, and the headers carrying its CSRF token."""
    client = Client(server)
    resp = await client.post("/api/v1/session", json={"login": who, "password": PASSWORD})
    assert resp.status == 200, await resp.text()
    return client, {"X-CSRF-Token": (await resp.json())["csrf"]}


async def test_login_sets_a_strict_httponly_cookie_and_logout_ends_the_session(desk) -> None:
    server, _ = desk
    client, csrf = await login(server, "ani")
    try:
        resp = await client.post("/api/v1/session", json={"login": "ani", "password": PASSWORD},
                                 headers={"X-Forwarded-Proto": "https"})
        cookie = resp.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie
        plain = await client.post("/api/v1/session", json={"login": "ani", "password": PASSWORD})
        assert "Secure" not in plain.headers["Set-Cookie"]
        csrf = {"X-CSRF-Token": (await plain.json())["csrf"]}
        me = await (await client.get("/api/v1/session")).json()
        assert (me["login"], me["role"], me["agencies"]) == ("ani", "petugas", ["dpupr"])
        assert (await client.get("/api/v1/tickets")).status == 200
        # the cookie alone does not change anything: a forged cross-site post has no CSRF header
        forged = await client.post("/api/v1/tickets/TIK-2026-000001/notes", json={"text": "x"})
        assert forged.status == 403 and (await forged.json())["error"] == "csrf"
        wrong = await client.post("/api/v1/tickets/TIK-2026-000001/notes", json={"text": "x"},
                                  headers={"X-CSRF-Token": "nope"})
        assert wrong.status == 403
        assert (await client.post("/api/v1/session/logout")).status == 403  # logout needs it too
        out = await client.post("/api/v1/session/logout", headers=csrf)
        assert out.status == 200 and (await out.json())["logged_out"] is True
        assert (await client.get("/api/v1/session")).status == 401
        assert (await client.get("/api/v1/tickets")).status == 401
    finally:
        await client.close()


async def test_form_posts_and_wrong_passwords_are_refused(desk) -> None:
    server, _ = desk
    async with Client(server) as client:
        form = await client.post("/api/v1/session", data={"login": "ani", "password": PASSWORD})
        assert form.status == 415
        for body in ({"login": "ani", "password": "salah-sekali-123"}, {"login": "siapa", "password": PASSWORD}):
            resp = await client.post("/api/v1/session", json=body)
            assert resp.status == 401 and (await resp.json())["error"] == "bad_login"
            assert "Set-Cookie" not in resp.headers


async def test_lockout_after_five_failures_logs_and_refuses_the_right_password(desk, caplog) -> None:
    server, store = desk
    caplog.set_level(logging.INFO, logger="omnichannel.users")
    async with Client(server) as client:
        for _ in range(users.MAX_FAILURES - 1):
            assert (await client.post("/api/v1/session", json={"login": "ani", "password": "x" * 12})).status == 401
        locked = await client.post("/api/v1/session", json={"login": "ani", "password": "x" * 12})
        assert locked.status == 403 and (await locked.json())["error"] == "locked"
        right = await client.post("/api/v1/session", json={"login": "ani", "password": PASSWORD})
        assert right.status == 403 and (await right.json())["error"] == "locked"
        # another account is not affected (per account, not per address)
        assert (await client.post("/api/v1/session", json={"login": "budi", "password": PASSWORD})).status == 200
    assert any("account ani locked for 15 minutes after 5 failed logins" in r.getMessage() for r in caplog.records)
    async with store.session() as s:
        await users.reset_password(s, "ani", "sandi-baru-yang-panjang", "test")
        await s.commit()
    async with Client(server) as client:
        ok = await client.post("/api/v1/session", json={"login": "ani", "password": "sandi-baru-yang-panjang"})
        assert ok.status == 200


async def test_disabled_account_cannot_log_in_and_its_sessions_end(desk) -> None:
    server, store = desk
    client, _ = await login(server, "ani")
    try:
        async with store.session() as s:
            await users.disable_user(s, "ani", "test")
            await s.commit()
        assert (await client.get("/api/v1/tickets")).status == 401
        resp = await client.post("/api/v1/session", json={"login": "ani", "password": PASSWORD})
        assert resp.status == 403 and (await resp.json())["error"] == "disabled"
    finally:
        await client.close()


async def test_passwords_are_stored_as_argon2_hashes(desk) -> None:
    _, store = desk
    async with store.session() as s:
        await users.add_user(s, "eko", "Eko", "petugas", ["dpupr"], PASSWORD, "test", make_config())
        await s.commit()
        user = (await s.exec(select(User).where(User.login == "eko"))).scalars().one()
        with pytest.raises(users.AccountError):
            await users.add_user(s, "eko", "Eko", "petugas", ["dpupr"], PASSWORD, "test", make_config())
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    with pytest.raises(users.AccountError):
        users.check_password("pendek")
    with pytest.raises(users.AccountError):
        users.check_account("ani", "petugas", [], make_config())
    with pytest.raises(users.AccountError):
        users.check_account("ani", "petugas", ["tidakada"], make_config())


async def refs(client: Client, query: str = "") -> list[str]:
    resp = await client.get("/api/v1/tickets" + query)
    assert resp.status == 200, await resp.text()
    return [t["ref"] for t in (await resp.json())["tickets"]]


async def test_queue_shows_each_person_what_their_role_allows(desk) -> None:
    server, _ = desk
    seen = {}
    for who in ("ani", "budi", "kora", "dewi", "adm"):
        client, _ = await login(server, who)
        try:
            seen[who] = await refs(client)
        finally:
            await client.close()
    assert seen["ani"] == ["TIK-2026-000001"]
    assert sorted(seen["budi"]) == ["TIK-2026-000002", "TIK-2026-000003"]
    assert seen["kora"] == seen["adm"] == ["TIK-2026-000001", "TIK-2026-000003", "TIK-2026-000002"]  # by deadline
    assert seen["dewi"] == ["TIK-2026-000003"]  # ppid: information requests only
    client, _ = await login(server, "pim")
    try:
        assert (await client.get("/api/v1/tickets")).status == 403  # pimpinan reads dashboards only
        assert (await client.get("/api/v1/tickets/TIK-2026-000001")).status == 404
    finally:
        await client.close()
    async with Client(server) as c:  # machine clients keep their bearer tokens
        resp = await c.get("/api/v1/tickets", headers=PUPR)
        assert [t["ref"] for t in (await resp.json())["tickets"]] == ["TIK-2026-000001"]
        assert (await c.get("/api/v1/tickets?agency=semua", headers=COORD)).status == 200


async def test_queue_rows_carry_what_a_desk_needs(desk) -> None:
    server, _ = desk
    client, _ = await login(server, "kora")
    try:
        doc = await (await client.get("/api/v1/tickets")).json()
        rows = {t["ref"]: t for t in doc["tickets"]}
        one, three = rows["TIK-2026-000001"], rows["TIK-2026-000003"]
        assert one["channels"] == ["telegram", "webform", "x"] and one["reporters"] == 3
        assert one["overdue"] is True and one["due_soon"] is False
        assert "081234567890" not in one["title"] and one["title"].startswith("Jalan rusak")
        assert three["title"] == "Mohon data anggaran perbaikan drainase 2026"  # no case title: first line
        assert three["location"] == "Pleburan, Semarang Selatan" and three["due_soon"] is True
        assert three["assigned_to"] is None and one["created_at"]
    finally:
        await client.close()


async def test_filters_sort_and_paging(desk) -> None:
    server, _ = desk
    client, csrf = await login(server, "kora")
    try:
        assert await refs(client, "?agency=dinkes") == ["TIK-2026-000003", "TIK-2026-000002"]
        assert await refs(client, "?kind=informasi") == ["TIK-2026-000003"]
        assert await refs(client, "?channel=x") == ["TIK-2026-000001"]
        assert await refs(client, "?overdue=true") == ["TIK-2026-000001"]
        assert await refs(client, "?overdue=false") == ["TIK-2026-000003", "TIK-2026-000002"]
        assert await refs(client, "?status=selesai") == []
        assert await refs(client, "?sort=-sla_due") == ["TIK-2026-000002", "TIK-2026-000003", "TIK-2026-000001"]
        page = await (await client.get("/api/v1/tickets?limit=2&offset=0")).json()
        assert (page["total"], len(page["tickets"]), page["next_offset"]) == (3, 2, 2)
        page = await (await client.get("/api/v1/tickets?limit=2&offset=2")).json()
        assert (len(page["tickets"]), page["next_offset"]) == (1, None)
        resp = await client.post("/api/v1/tickets/TIK-2026-000002/assign", json={"user": "kora"}, headers=csrf)
        assert resp.status == 200
        assert await refs(client, "?assigned=me") == ["TIK-2026-000002"]
        assert await refs(client, "?assigned=none") == ["TIK-2026-000001", "TIK-2026-000003"]
        for bad in ("?sort=rahasia", "?limit=x", "?overdue=maybe", "?q=%20!!%20"):
            assert (await client.get("/api/v1/tickets" + bad)).status == 400
    finally:
        await client.close()


async def test_search_finds_words_in_any_message_of_the_case(any_store) -> None:
    await seed_desk(any_store)
    async with any_store.session() as s:  # a later message on case 1, from another channel
        s.add(Complaint(id=6, ref="ADU-2026-000006", connector="web", channel="webform", status="merged",
                        text="Tambahan: gorong-gorong tersumbat sampah", case_id=1, agency="dpupr"))
        await s.commit()
    assert await search_index.pending(any_store) > 0  # stored, not yet indexed (no work in the ingest transaction)
    await search_index.flush(any_store)  # what the daemon's background indexer does within a second
    assert await search_index.pending(any_store) == 0
    app = web.Application()
    app.router.add_routes(routes(any_store, make_config(), Templates(), AnswerDesk()))
    async with TestClient(TestServer(app)) as client:
        async def search(q: str, headers: dict[str, str] = COORD) -> list[str]:
            resp = await client.get("/api/v1/tickets", params={"q": q}, headers=headers)
            assert resp.status == 200, await resp.text()
            return [t["ref"] for t in (await resp.json())["tickets"]]

        assert await search("gorong") == ["TIK-2026-000001"]  # prefix, a follow-up's text
        assert await search("Puskesmas tutup") == ["TIK-2026-000002"]
        assert await search("puskesmas jalan") == []  # every word must match
        assert await search("ANGGARAN drainase") == ["TIK-2026-000003"]
        assert await search('tutup" OR "jalan') == []  # input is words (all must match), never query syntax
        assert await search("puskesmas", PUPR) == []  # only the caller's tickets


OTHER_AGENCY = [  # ani (dpupr) on dinkes's ticket TIK-2026-000002 and dinkes's replies
    ("get", "/api/v1/tickets/TIK-2026-000002/history", None, 404),
    ("get", "/api/v1/tickets/TIK-2026-000002/replies", None, 404),
    ("post", "/api/v1/tickets/TIK-2026-000002/assign", {"user": "ani"}, 404),
    ("get", "/api/v1/tickets/TIK-2026-000002/assignees", None, 404),
    ("post", "/api/v1/tickets/TIK-2026-000002/notes", {"text": "catatan"}, 404),
    ("post", "/api/v1/tickets/TIK-2026-000002/reassign", {"agency": "dpupr", "reason": "salah"}, 403),
    ("post", "/api/v1/tickets/TIK-2026-000002/status", {"status": "selesai"}, 404),
    ("post", "/api/v1/tickets/TIK-2026-000002/reply", {"text": "sudah"}, 404),
    ("get", "/api/v1/tickets/TIK-2026-000002", None, 404),
    ("get", "/api/v1/tickets?agency=dinkes", None, 403),
    ("get", "/api/v1/agencies/dinkes/tickets", None, 403),
    ("get", "/api/v1/agencies/dinkes/replies", None, 403),
    ("put", "/api/v1/agencies/dinkes/replies/salam", {"text": "Halo"}, 403),
    ("delete", "/api/v1/agencies/dinkes/replies/salam", None, 403),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), OTHER_AGENCY)
async def test_an_officer_of_one_agency_cannot_touch_another(desk, method: str, path: str, body: Any,
                                                             status: int) -> None:
    server, store = desk
    client, csrf = await login(server, "ani")
    try:
        resp = await getattr(client, method)(path, json=body, headers=csrf)
        assert resp.status == status, await resp.text()
        if status == 404:  # the same answer as for a ticket that does not exist
            assert (await getattr(client, method)(path.replace("000002", "999999"), json=body,
                                                  headers=csrf)).status == 404
    finally:
        await client.close()
    async with store.session() as s:
        t = await s.get(Ticket, 2)
        actions = (await s.exec(select(AuditEvent.action).where(AuditEvent.subject_ref == t.ref))).scalars().all()
    assert (t.status, t.assigned_to, actions) == ("baru", None, [])


@pytest.mark.parametrize("path", ["/api/v1/tickets/TIK-2026-000002", "/api/v1/tickets/TIK-2026-000002/history",
                                  "/api/v1/tickets/TIK-2026-000002/replies"])
async def test_a_ppid_sees_information_requests_only(desk, path: str) -> None:
    server, _ = desk
    client, csrf = await login(server, "dewi")
    try:
        assert (await client.get(path)).status == 404
        assert (await client.get(path.replace("000002", "000003"))).status == 200
        assert (await client.post("/api/v1/tickets/TIK-2026-000002/notes", json={"text": "x"},
                                  headers=csrf)).status == 404
    finally:
        await client.close()


async def test_assign_note_and_status_are_in_the_history_with_who(desk) -> None:
    server, store = desk
    client, csrf = await login(server, "ani")
    try:
        assert (await client.post("/api/v1/tickets/TIK-2026-000001/assign", json={"user": "budi"},
                                  headers=csrf)).status == 422  # budi works for dinkes
        people = await (await client.get("/api/v1/tickets/TIK-2026-000001/assignees")).json()
        assert [p["login"] for p in people["people"]] == ["adm", "ani", "kora"]  # by name; not budi, dewi, pim
        resp = await client.post("/api/v1/tickets/TIK-2026-000001/assign", json={"user": "ani"}, headers=csrf)
        assert resp.status == 200 and (await resp.json())["assigned_to"] == "ani"
        resp = await client.post("/api/v1/tickets/TIK-2026-000001/notes", json={"text": "Sudah cek lokasi, perlu alat berat"},
                                 headers=csrf)
        assert resp.status == 201
        resp = await client.post("/api/v1/tickets/TIK-2026-000001/status", json={"status": "diproses"}, headers=csrf)
        assert resp.status == 200
        history = await (await client.get("/api/v1/tickets/TIK-2026-000001/history")).json()
        mine = [(e["type"], e["actor"], e["actor_name"]) for e in history["events"] if e["actor"] == "user:ani"]
        assert mine == [("assign", "user:ani", "Ani Lestari"), ("note", "user:ani", "Ani Lestari"),
                        ("status", "user:ani", "Ani Lestari")]
        types = {e["type"] for e in history["events"]}
        assert {"complaint", "assign", "note", "status"} <= types
        queue = await (await client.get("/api/v1/tickets")).json()
        assert queue["tickets"][0]["assignee_name"] == "Ani Lestari"
    finally:
        await client.close()
    async with store.session() as s:  # a note is never sent to a citizen
        replies = (await s.exec(select(OutboxRow).where(OutboxRow.item_type == "reply"))).scalars().all()
    assert all("alat berat" not in str(r.payload) for r in replies)


async def test_rejection_reason_and_reopening_reach_every_reporter(desk) -> None:
    server, store = desk
    client, csrf = await login(server, "ani")
    try:
        resp = await client.post("/api/v1/tickets/TIK-2026-000001/status",
                                 json={"status": "ditolak", "note": "Jalan tersebut jalan provinsi, bukan kewenangan kota"},
                                 headers=csrf)
        assert resp.status == 200 and (await resp.json())["replies"] == 2  # the web form has no channel back
        resp = await client.post("/api/v1/tickets/TIK-2026-000001/status", json={"status": "diproses"}, headers=csrf)
        assert resp.status == 200 and (await resp.json())["replies"] == 2
    finally:
        await client.close()
    async with store.session() as s:
        rows = (await s.exec(select(OutboxRow).where(OutboxRow.item_type == "reply").order_by(OutboxRow.id)))
        rows = rows.scalars().all()
    rejected = {r.destination: r.payload for r in rows if r.payload["purpose"] == "rejected"}
    reopened = {r.destination for r in rows if r.payload["purpose"] == "reopened"}
    assert set(rejected) == reopened == {"reply:tg", "reply:twit"}
    assert "jalan provinsi" in rejected["reply:tg"]["text"] and "Alasan" in rejected["reply:tg"]["text"]
    assert "jalan provinsi" not in rejected["reply:twit"]["text"]  # X is public: no reason there


async def test_canned_replies_admin_edits_officers_use_with_placeholders(desk) -> None:
    server, _ = desk
    admin, admin_csrf = await login(server, "adm")
    ani, ani_csrf = await login(server, "ani")
    try:
        text = "Aduan tiket {ref} diterima {nama_instansi}; kami tindak lanjuti sebelum {batas_waktu}."
        resp = await admin.put("/api/v1/agencies/dpupr/replies/diterima", json={"text": text}, headers=admin_csrf)
        assert resp.status == 201
        assert (await admin.put("/api/v1/agencies/dpupr/replies/diterima", json={"text": text},
                                headers=admin_csrf)).status == 200
        typo = await admin.put("/api/v1/agencies/dpupr/replies/salah", headers=admin_csrf,
                               json={"text": "Tiket {ref} untuk {nama_pelapor} dan {nama_pelapor}, {batas waktu}"})
        assert typo.status == 422  # a typo would reach citizens as "{nama_pelapor}"
        assert (await typo.json())["unknown"] == ["nama_pelapor", "batas waktu"]
        assert (await ani.put("/api/v1/agencies/dpupr/replies/lain", json={"text": "x"},
                              headers=ani_csrf)).status == 403  # officers use, admins edit
        listed = await (await ani.get("/api/v1/agencies/dpupr/replies")).json()
        assert [r["name"] for r in listed["replies"]] == ["diterima"] and listed["replies"][0]["updated_by"] == "user:adm"
        filled = await (await ani.get("/api/v1/tickets/TIK-2026-000001/replies")).json()
        [reply] = filled["replies"]
        assert reply["text"].startswith("Aduan tiket TIK-2026-000001 diterima Dinas PUPR; kami tindak lanjuti sebelum ")
        assert reply["text"].endswith(" WIB.") and "{" not in reply["text"]
        assert (await admin.delete("/api/v1/agencies/dpupr/replies/diterima", headers=admin_csrf)).status == 200
        assert (await admin.delete("/api/v1/agencies/dpupr/replies/diterima", headers=admin_csrf)).status == 404
    finally:
        await admin.close()
        await ani.close()


async def test_coordinator_reassigns_with_history_deliveries_and_a_recorded_correction(desk) -> None:
    server, store = desk
    ani, ani_csrf = await login(server, "ani")
    kora, csrf = await login(server, "kora")
    try:
        await ani.post("/api/v1/tickets/TIK-2026-000001/notes", json={"text": "Bukan wewenang kami"}, headers=ani_csrf)
        assert (await ani.post("/api/v1/tickets/TIK-2026-000001/reassign", json={"agency": "dinkes", "reason": "x"},
                               headers=ani_csrf)).status == 403  # an officer asks the coordinator
        for body in ({"agency": "tidakada", "reason": "salah"}, {"agency": "dinkes", "reason": " "},
                     {"agency": "dpupr", "reason": "sama"}):
            assert (await kora.post("/api/v1/tickets/TIK-2026-000001/reassign", json=body,
                                    headers=csrf)).status == 422
        resp = await kora.post("/api/v1/tickets/TIK-2026-000001/reassign",
                               json={"agency": "dinkes", "reason": "Genangan air memicu demam berdarah"}, headers=csrf)
        assert resp.status == 201, await resp.text()
        new = (await resp.json())["new_ticket"]
        again = await kora.post("/api/v1/tickets/TIK-2026-000001/reassign",
                                json={"agency": "dinkes", "reason": "lagi"}, headers=csrf)
        assert again.status == 422
        history = await (await kora.get(f"/api/v1/tickets/{new}/history")).json()
        kinds = [(e["type"], e.get("ticket")) for e in history["events"] if e["type"] in ("note", "reassign",
                                                                                         "reassigned_from")]
        assert ("note", "TIK-2026-000001") in kinds and ("reassigned_from", new) in kinds
        # the old agency still reads its closed ticket but cannot work on it; it cannot see the new one
        old = await (await ani.get("/api/v1/tickets/TIK-2026-000001")).json()
        assert old["status"] == "dialihkan"
        assert (await ani.post("/api/v1/tickets/TIK-2026-000001/status", json={"status": "diproses"},
                               headers=ani_csrf)).status == 422
        assert (await ani.get(f"/api/v1/tickets/{new}")).status == 404
    finally:
        await ani.close()
        await kora.close()
    async with store.session() as s:
        ticket = (await s.exec(select(Ticket).where(Ticket.ref == new))).scalars().one()
        rows = (await s.exec(select(OutboxRow).where(OutboxRow.item_type.in_(["ticket", "ticket_update"]))))
        rows = rows.scalars().all()
        [correction] = (await s.exec(select(Correction))).scalars().all()
    assert (ticket.agency, ticket.status, ticket.kind) == ("dinkes", "baru", "pengaduan")
    assert {(r.item_type, r.item_ref.split("#")[0], r.destination) for r in rows} == {
        ("ticket", new, "hook"), ("ticket_update", "TIK-2026-000001", "hook")}
    ticket_row = next(r for r in rows if r.item_type == "ticket")
    assert ticket_row.payload["agency"] == "dinkes" and ticket_row.payload["complaint"] == "ADU-2026-000001"
    assert (correction.kind, correction.ticket_ref, correction.complaint_ref, correction.agency_from,
            correction.agency_to, correction.actor) == ("reassign", "TIK-2026-000001", "ADU-2026-000001", "dpupr",
                                                        "dinkes", "user:kora")
    assert correction.reason == "Genangan air memicu demam berdarah" and correction.at is not None


async def test_openapi_document_is_valid_and_covers_every_officer_route(desk) -> None:
    from openapi_spec_validator import validate

    from omnichannel.web.desk import routes as desk_routes

    server, store = desk
    async with Client(server) as client:
        resp = await client.get("/api/v1/openapi.json")
        assert resp.status == 200
        doc = await resp.json()
    validate(doc)  # OpenAPI 3.1 schema
    assert doc["openapi"] == "3.1.0"
    mounted = {(r.method.lower(), r.path) for r in desk_routes(store, make_config(), Templates(), AnswerDesk())}
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    # the document describes what this app mounts (the desk alone here); the whole daemon's routes, the
    # keberatan ones beside the desk included, are held to it in test_openapi.py
    assert mounted == documented
    for (method, path) in documented:
        op = doc["paths"][path][method]
        assert op["summary"] and any(code.startswith("2") for code in op["responses"])
        for code, answer in op["responses"].items():
            if code.startswith("4"):  # the officers' Error, but for the rate limiter's 429 (Problem)
                shape = "Problem" if code == "429" else "Error"
                schema = answer["content"]["application/json"]["schema"]
                if code == "429" and path == "/api/v1/events":  # its own limit (streams per person) besides
                    assert schema == {"anyOf": [{"$ref": "#/components/schemas/Error"},
                                                {"$ref": "#/components/schemas/Problem"}]}
                    continue
                assert schema == {"$ref": f"#/components/schemas/{shape}"}


async def add_case(store: Any, case_id: int, agency: str, texts: list[tuple[int, str]]) -> None:
    """A case with a ticket for ``agency`` and complaints (reporter id, text) from the web form."""
    async with store.session() as s:
        s.add(Case(id=case_id, ref=f"KAS-2026-{case_id:06d}", complaint_count=len(texts), reporter_count=len(texts)))
        await s.flush()
        for n, (reporter, text) in enumerate(texts):
            cid = case_id * 10 + n
            s.add(Complaint(id=cid, ref=f"ADU-2026-{cid:06d}", reporter_id=reporter, connector="web",
                            channel="webform", text=text, status="routed", case_id=case_id, agency=agency))
        s.add(Ticket(id=case_id, ref=f"TIK-2026-{case_id:06d}", case_id=case_id, agency=agency, kind="pengaduan",
                     sla_due=utcnow() + timedelta(days=2)))
        await s.commit()


async def test_merge_moves_complaints_and_closes_the_duplicate_ticket(desk) -> None:
    server, store = desk
    await add_case(store, 7, "dpupr", [(3, "Jalan Merdeka rusak parah dekat sekolah")])
    ani, csrf = await login(server, "ani")
    budi, budi_csrf = await login(server, "budi")
    try:
        # dinkes cannot touch dpupr's cases, and nobody merges into a case they cannot see
        assert (await budi.post("/api/v1/cases/KAS-2026-000007/merge", json={"into": "KAS-2026-000002"},
                                headers=budi_csrf)).status == 404
        assert (await ani.post("/api/v1/cases/KAS-2026-000007/merge", json={"into": "KAS-2026-000002"},
                               headers=csrf)).status == 404
        assert (await ani.post("/api/v1/cases/KAS-2026-000007/merge", json={"into": "KAS-2026-000007"},
                               headers=csrf)).status == 422
        resp = await ani.post("/api/v1/cases/KAS-2026-000007/merge", json={"into": "KAS-2026-000001"}, headers=csrf)
        assert resp.status == 200, await resp.text()
        result = await resp.json()
        assert result["closed_tickets"] == ["TIK-2026-000007"] and result["complaints"] == 1
        ticket = await (await ani.get("/api/v1/tickets/TIK-2026-000001")).json()
        assert "ADU-2026-000070" in [c["ref"] for c in ticket["complaints"]]
        closed = await (await ani.get("/api/v1/tickets/TIK-2026-000007")).json()
        assert closed["status"] == "digabung"
        assert (await ani.post("/api/v1/tickets/TIK-2026-000007/status", json={"status": "diproses"},
                               headers=csrf)).status == 422
        history = await (await ani.get("/api/v1/tickets/TIK-2026-000001/history")).json()
        assert any(e["type"] == "case_merge" and e["actor"] == "user:ani" for e in history["events"])
    finally:
        await ani.close()
        await budi.close()
    async with store.session() as s:
        case = await s.get(Case, 1)
        [correction] = (await s.exec(select(Correction))).scalars().all()
        updates = (await s.exec(select(OutboxRow).where(OutboxRow.item_type == "ticket_update"))).scalars().all()
    assert (case.complaint_count, case.reporter_count) == (4, 3)  # reporter 3 was already on the case
    assert (correction.kind, correction.case_ref, correction.complaint_ref, correction.actor) == (
        "merge", "KAS-2026-000007", "ADU-2026-000070", "user:ani")
    assert correction.detail["into"] == "KAS-2026-000001"
    assert [u.payload["ticket"] for u in updates] == ["TIK-2026-000001"]


async def test_split_opens_a_new_case_and_ticket_for_the_complaints_taken_out(desk) -> None:
    server, store = desk
    ani, csrf = await login(server, "ani")
    budi, budi_csrf = await login(server, "budi")
    try:
        assert (await budi.post("/api/v1/cases/KAS-2026-000001/split", json={"complaints": ["ADU-2026-000003"]},
                                headers=budi_csrf)).status == 404
        for bad in ({"complaints": []}, {"complaints": ["ADU-2026-000004"]},
                    {"complaints": ["ADU-2026-000001", "ADU-2026-000002", "ADU-2026-000003"]}):
            assert (await ani.post("/api/v1/cases/KAS-2026-000001/split", json=bad, headers=csrf)).status == 422
        resp = await ani.post("/api/v1/cases/KAS-2026-000001/split", json={"complaints": ["adu-2026-000003"]},
                              headers=csrf)
        assert resp.status == 201, await resp.text()
        result = await resp.json()
        assert result["complaints"] == ["ADU-2026-000003"] and len(result["new_tickets"]) == 1
        new = await (await ani.get(f"/api/v1/tickets/{result['new_tickets'][0]}")).json()
        assert [c["ref"] for c in new["complaints"]] == ["ADU-2026-000003"] and new["agency"] == "dpupr"
        old = await (await ani.get("/api/v1/tickets/TIK-2026-000001")).json()
        assert [c["ref"] for c in old["complaints"]] == ["ADU-2026-000001", "ADU-2026-000002"]
        assert old["case"]["reporters"] == 2 and new["case"]["reporters"] == 1
    finally:
        await ani.close()
        await budi.close()
    async with store.session() as s:
        [correction] = (await s.exec(select(Correction))).scalars().all()
        tickets = (await s.exec(select(OutboxRow).where(OutboxRow.item_type == "ticket"))).scalars().all()
    assert (correction.kind, correction.case_ref, correction.complaint_ref) == ("split", "KAS-2026-000001",
                                                                              "ADU-2026-000003")
    assert [t.item_ref for t in tickets] == result["new_tickets"]


async def test_pages_walk_the_order_with_tickets_without_a_deadline_last_and_counts_stop_at_the_cap(
        any_store, monkeypatch) -> None:
    """The queue reads a page in index order (tickets with a deadline, then those without) and counts its
    matches only up to COUNT_CAP: every page, in both directions, is the slice of the fully sorted queue."""
    from omnichannel.web import queue

    now = utcnow()
    async with any_store.session() as s:
        for i in range(1, 12):
            s.add(Case(id=i, ref=f"KAS-2026-{i:06d}", complaint_count=1, reporter_count=1))
            await s.flush()
            s.add(Complaint(id=i, ref=f"ADU-2026-{i:06d}", connector="web", channel="webform", status="routed",
                            text=f"Sampah menumpuk nomor {i}" + (" banjir" if i % 2 else ""), case_id=i,
                            agency="dpupr"))
            # three tickets without a deadline, and two sharing one (the id breaks the tie)
            due = None if i in (2, 5, 9) else now + timedelta(hours=(i * 7) % 10)
            s.add(Ticket(id=i, ref=f"TIK-2026-{i:06d}", case_id=i, agency="dpupr", kind="pengaduan", sla_due=due))
        await s.commit()
    await search_index.flush(any_store)  # the daemon's background indexer; the test searches at once
    async with any_store.session() as s:
        tickets = (await s.exec(select(Ticket))).scalars().all()
    dated = [t for t in tickets if t.sla_due is not None]
    undated = sorted(t.ref for t in tickets if t.sla_due is None)
    ascending = [t.ref for t in sorted(dated, key=lambda t: (t.sla_due, t.id))] + undated
    descending = [t.ref for t in sorted(dated, key=lambda t: (t.sla_due, t.id), reverse=True)] + undated
    app = web.Application()
    app.router.add_routes(routes(any_store, make_config(), Templates(), AnswerDesk()))
    monkeypatch.setattr(queue, "COUNT_CAP", 5)
    async with TestClient(TestServer(app)) as client:
        async def page(query: str) -> dict[str, Any]:
            resp = await client.get("/api/v1/tickets" + query, headers=COORD)
            assert resp.status == 200, await resp.text()
            return await resp.json()

        first_after = (await page("?limit=3"))["next_after"]
        for sort, expected in (("sla_due", ascending), ("-sla_due", descending)):
            seen, offset = [], 0
            while offset is not None:
                doc = await page(f"?sort={sort}&limit=3&offset={offset}")
                seen += [t["ref"] for t in doc["tickets"]]
                offset = doc["next_offset"]
            assert seen == expected, sort
            seen, after = [], ""  # the same walk by keyset
            while after is not None:
                doc = await page(f"?sort={sort}&limit=3" + (f"&after={after}" if after else ""))
                seen += [t["ref"] for t in doc["tickets"]]
                after = doc["next_after"]
            assert seen == expected, sort
            assert [t["ref"] for t in (await page(f"?sort={sort}&limit=2&offset=9"))["tickets"]] == expected[9:11]
        for bad in ("?after=xyz", "?after=WzEsMl0", "?offset=99999999999999999999999", "?offset=3&after=" +
                    first_after):
            assert (await client.get("/api/v1/tickets" + bad, headers=COORD)).status == 400, bad
        first = await page("?limit=3")
        assert (first["total"], first["total_exact"], first["next_offset"]) == (5, False, 3)  # more than 5
        deep = await page("?limit=3&offset=6")
        assert (deep["total"], deep["total_exact"]) == (9, False)
        small = await page("?q=banjir&limit=3")  # six odd ids: still more than the cap
        assert small["total_exact"] is False and len(small["tickets"]) == 3
        exact = await page("?q=banjir&agency=dpupr&status=baru&kind=pengaduan&channel=webform&limit=10")
        assert sorted(t["ref"] for t in exact["tickets"]) == [f"TIK-2026-{i:06d}" for i in (1, 3, 5, 7, 9, 11)]
        monkeypatch.setattr(queue, "COUNT_CAP", 1000)
        for walk in (0, 1000):  # SQLite: a common word walks the queue's order, a rare one sorts its matches
            monkeypatch.setattr(queue, "SEARCH_WALK", walk)
            doc = await page("?q=banjir")
            assert [t["ref"] for t in doc["tickets"]] == [r for r in ascending if int(r[-2:]) % 2]
            assert (doc["total"], doc["total_exact"], doc["next_offset"]) == (6, True, None)
