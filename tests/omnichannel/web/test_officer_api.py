"""Officer API: per-agency tokens (403 on another queue, 404 on another's tickets), status, answers fan-out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from textwrap import dedent
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from omnichannel.config import Config, parse_config
from omnichannel.models import AuditEvent, Case, Complaint, EnvelopeRow, OutboxRow, Reporter, Ticket
from omnichannel.templates import Templates
from omnichannel.types import utcnow
from omnichannel.web.officer_api import routes
from router.delivery.answers import AnswerDesk

ENV = {"TOK_PUPR": "tok-pupr", "TOK_DINKES": "tok-dinkes", "TOK_COORD": "tok-coord", "BOT": "123:abc",
       "XB": "xb", "XK": "xk", "XS": "xs", "XA": "xa", "XT": "xt"}
PUPR = {"Authorization": "Bearer tok-pupr"}
DINKES = {"Authorization": "Bearer tok-dinkes"}
COORD = {"Authorization": "Bearer tok-coord"}


def make_config() -> Config:
    return parse_config(dedent("""
        http: {coordinator_tokens: ["${TOK_COORD}"]}
        connectors:
          - {name: tg, kind: telegram, token: "${BOT}"}
          - {name: twit, kind: x, bearer_token: "${XB}", consumer_key: "${XK}", consumer_secret: "${XS}",
             access_token: "${XA}", access_token_secret: "${XT}", reply_mode: public,
             account_username: pemkot}
          - {name: web, kind: webform}
        forwarders:
          - {name: hook, kind: webhook, url: "http://127.0.0.1:9/x", item_types: [ticket, ticket_update]}
        agencies:
          - {code: dpupr, name: Dinas PUPR, officer_tokens: ["${TOK_PUPR}"]}
          - {code: dinkes, name: Dinas Kesehatan, officer_tokens: ["${TOK_DINKES}"]}
        """), env=ENV)


async def seed(store: Any) -> None:
    """Two cases: TIK-...01 for dpupr with three complaints on three channels, TIK-...02 for dinkes."""
    now = utcnow()
    async with store.session() as s:
        for i in (1, 2, 3):
            s.add(Reporter(id=i, display_name=f"Warga {i}"))
        s.add(Case(id=1, ref="KAS-2026-000001", title="Jalan rusak di Jl. Merdeka, hub 081234567890",
                   complaint_count=3, reporter_count=3))
        s.add(Case(id=2, ref="KAS-2026-000002", title="Puskesmas tutup", complaint_count=1, reporter_count=1))
        await s.flush()
        envs = [("tg", "telegram", {"chat_id": 11, "message_id": 5}), ("twit", "x", {"tweet_id": "99"}),
                ("web", "webform", {"session": "s1"}), ("tg", "telegram", {"chat_id": 12, "message_id": 6})]
        for i, (conn, channel, origin) in enumerate(envs, start=1):
            s.add(EnvelopeRow(id=i, connector=conn, channel=channel, external_id=f"e{i}", received_at=now,
                              raw=b"{}", origin=origin))
        await s.flush()
        complaints = [(1, "tg", "telegram", 1, 1, "Jalan rusak, telp saya 081234567890"),
                      (2, "twit", "x", 2, 1, "@pemkot jalan rusak parah"),
                      (3, "web", "webform", 3, 1, "Jalan berlubang NIK 3374011508900001"),
                      (4, "tg", "telegram", 1, 2, "Puskesmas tutup jam 10")]
        for cid, conn, channel, rid, case, text in complaints:
            s.add(Complaint(id=cid, ref=f"ADU-2026-00000{cid}", envelope_id=cid, reporter_id=rid, connector=conn,
                            channel=channel, text=text, status="routed", case_id=case,
                            agency="dpupr" if case == 1 else "dinkes"))
        s.add(Ticket(id=1, ref="TIK-2026-000001", case_id=1, agency="dpupr", kind="pengaduan",
                     sla_due=now - timedelta(days=1), overdue=True))
        s.add(Ticket(id=2, ref="TIK-2026-000002", case_id=2, agency="dinkes", kind="pengaduan",
                     sla_due=now + timedelta(days=3)))
        await s.commit()


@pytest_asyncio.fixture
async def client(store: Any) -> AsyncIterator[TestClient]:
    await seed(store)
    app = web.Application()
    app.router.add_routes(routes(store, make_config(), Templates(), AnswerDesk()))
    async with TestClient(TestServer(app)) as c:
        yield c


async def outbox(store: Any, item_type: str) -> list[OutboxRow]:
    async with store.session() as s:
        q = select(OutboxRow).where(OutboxRow.item_type == item_type).order_by(OutboxRow.id)
        return list((await s.exec(q)).scalars().all())


async def test_no_or_wrong_token_is_401(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic tok-pupr"}):
        resp = await client.get("/api/v1/agencies/dpupr/tickets", headers=headers)
        assert resp.status == 401 and (await resp.json())["error"] == "unauthorized"
        assert "Bearer" in resp.headers["WWW-Authenticate"]


ROUTES_FOR_B = [
    ("get", "/api/v1/agencies/dinkes/tickets", None, 403),
    ("get", "/api/v1/agencies/dinkes/tickets?status=baru&overdue=true", None, 403),
    ("get", "/api/v1/tickets/TIK-2026-000002", None, 404),
    ("post", "/api/v1/tickets/TIK-2026-000002/status", {"status": "selesai"}, 404),
    ("post", "/api/v1/tickets/TIK-2026-000002/reply", {"text": "Sudah kami tangani"}, 404),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), ROUTES_FOR_B)
async def test_agency_a_cannot_see_or_touch_agency_b(client: TestClient, store: Any, method: str, path: str,
                                                     body: Any, status: int) -> None:
    resp = await getattr(client, method)(path, headers=PUPR, json=body)
    assert resp.status == status
    doc = await resp.json()
    assert doc["error"] in ("forbidden", "not_found") and doc["reason"]
    if status == 404:  # the same answer as for a ticket that does not exist
        missing = await getattr(client, method)(path.replace("000002", "999999"), headers=PUPR, json=body)
        assert missing.status == 404
    async with store.session() as s:
        t = await s.get(Ticket, 2)
        events = (await s.exec(select(AuditEvent))).scalars().all()
    assert (t.status, t.answer, events) == ("baru", None, [])
    assert await outbox(store, "reply") == []


async def test_queue_lists_own_tickets_with_filters_and_paging(client: TestClient, store: Any) -> None:
    resp = await client.get("/api/v1/agencies/dpupr/tickets", headers=PUPR)
    doc = await resp.json()
    assert resp.status == 200 and doc["total"] == 1 and doc["next_offset"] is None
    [t] = doc["tickets"]
    assert (t["ref"], t["overdue"], t["reporters"]) == ("TIK-2026-000001", True, 3)
    assert "081234567890" not in t["title"]
    doc = await (await client.get("/api/v1/agencies/dpupr/tickets?overdue=false", headers=PUPR)).json()
    assert doc["total"] == 0
    async with store.session() as s:
        s.add(Case(id=3, ref="KAS-2026-000003"))
        s.add(Case(id=4, ref="KAS-2026-000004"))
        await s.flush()
        s.add(Ticket(id=3, ref="TIK-2026-000003", case_id=3, agency="dpupr", kind="aspirasi"))  # no SLA yet
        s.add(Ticket(id=4, ref="TIK-2026-000004", case_id=4, agency="dpupr", kind="pengaduan",
                     sla_due=utcnow() + timedelta(days=2)))
        await s.commit()
    doc = await (await client.get("/api/v1/agencies/dpupr/tickets?overdue=false&limit=1", headers=PUPR)).json()
    assert (doc["total"], len(doc["tickets"]), doc["next_offset"]) == (2, 1, 1)
    doc = await (await client.get("/api/v1/agencies/dpupr/tickets?overdue=false&offset=1", headers=PUPR)).json()
    assert [t["ref"] for t in doc["tickets"]] == ["TIK-2026-000003"] and doc["next_offset"] is None
    doc = await (await client.get("/api/v1/agencies/dpupr/tickets?status=selesai", headers=PUPR)).json()
    assert doc["total"] == 0
    resp = await client.get("/api/v1/agencies/dpupr/tickets?limit=x", headers=PUPR)
    assert resp.status == 400


async def test_coordinator_sees_every_queue_with_personal_data_masked(client: TestClient) -> None:
    for code in ("dpupr", "dinkes"):
        assert (await client.get(f"/api/v1/agencies/{code}/tickets", headers=COORD)).status == 200
    assert (await client.get("/api/v1/agencies/nope/tickets", headers=COORD)).status == 404
    doc = await (await client.get("/api/v1/tickets/TIK-2026-000001", headers=COORD)).json()
    assert doc["personal_data"] == "masked"
    texts = " ".join(c["text"] for c in doc["complaints"])
    assert "081234567890" not in texts and "3374011508900001" not in texts


async def test_owner_sees_full_ticket(client: TestClient) -> None:
    doc = await (await client.get("/api/v1/tickets/tik-2026-000001", headers=PUPR)).json()
    assert doc["personal_data"] == "full" and doc["agency_name"] == "Dinas PUPR"
    assert [c["ref"] for c in doc["complaints"]] == ["ADU-2026-000001", "ADU-2026-000002", "ADU-2026-000003"]
    assert "081234567890" in doc["complaints"][0]["text"]


async def test_reply_fans_out_to_every_reporter_on_their_channel(client: TestClient, store: Any) -> None:
    resp = await client.post("/api/v1/tickets/TIK-2026-000001/reply", headers=PUPR,
                             json={"text": "Perbaikan dijadwalkan Senin, 9 Maret."})
    doc = await resp.json()
    assert resp.status == 201 and doc["replies"] == 2 and doc["status"] == "diproses"
    rows = await outbox(store, "reply")
    by_dest = {r.destination: r for r in rows}
    assert set(by_dest) == {"reply:tg", "reply:twit"}  # the web form cannot be answered on its channel
    tg, x = by_dest["reply:tg"], by_dest["reply:twit"]
    assert tg.item_ref == "ADU-2026-000001#answer-1" and tg.payload["origin"] == {"chat_id": 11, "message_id": 5}
    assert "Perbaikan dijadwalkan" in tg.payload["text"] and tg.payload["public"] is False
    assert x.payload["public"] is True and "Perbaikan" not in x.payload["text"]
    assert "ADU-2026-000002" in x.payload["text"] and x.payload["purpose"] == "answer"
    again = await client.post("/api/v1/tickets/TIK-2026-000001/reply", headers=PUPR, json={"text": "Update: selesai Rabu."})
    assert (await again.json())["replies"] == 2
    assert {r.item_ref for r in await outbox(store, "reply")} >= {"ADU-2026-000001#answer-2"}
    async with store.session() as s:
        ticket = await s.get(Ticket, 1)
        events = (await s.exec(select(AuditEvent).where(AuditEvent.action == "answer"))).scalars().all()
    assert ticket.answer == "Update: selesai Rabu."
    assert [e.detail["unreachable"] for e in events] == [["ADU-2026-000003"]] * 2
    assert all(e.actor.startswith("officer:dpupr#") for e in events)


async def test_status_changes_notify_forwarders_and_close_to_citizens(client: TestClient, store: Any) -> None:
    bad = await client.post("/api/v1/tickets/TIK-2026-000001/status", headers=PUPR, json={"status": "hilang"})
    assert bad.status == 422 and "unknown status" in (await bad.json())["reason"]
    bad = await client.post("/api/v1/tickets/TIK-2026-000001/status", headers=PUPR, json={"status": "ditolak"})
    assert bad.status == 422 and "note" in (await bad.json())["reason"]
    assert (await client.post("/api/v1/tickets/TIK-2026-000001/status", headers=PUPR, data=b"{")).status == 400
    ok = await client.post("/api/v1/tickets/TIK-2026-000001/status", headers=PUPR,
                           json={"status": "diterima", "note": "Tim survei berangkat"})
    assert (await ok.json())["status"] == "diterima"
    done = await client.post("/api/v1/tickets/TIK-2026-000001/status", headers=PUPR, json={"status": "selesai"})
    assert (await done.json())["replies"] == 2
    updates = await outbox(store, "ticket_update")
    assert [(u.item_ref, u.payload["status"]) for u in updates] == [
        ("TIK-2026-000001#status-1", "diterima"), ("TIK-2026-000001#status-2", "selesai")]
    closed = [r for r in await outbox(store, "reply") if r.item_ref.endswith("#closed")]
    assert len(closed) == 2 and all("selesai" in r.payload["text"] for r in closed)
    async with store.session() as s:
        assert (await s.get(Ticket, 1)).closed_at is not None
