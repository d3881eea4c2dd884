"""The PPID's API: decision with the UU 14/2008 reason, the one extension, keberatan and its answer; the
reports then count them. Status changes and answers record first response and reopening."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from textwrap import dedent
from typing import Any

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from omnichannel.config import Config, parse_config
from omnichannel.models import Case, Complaint, Objection, Ticket
from omnichannel.reports.figures import build_report
from omnichannel.sla import WorkingCalendar
from omnichannel.templates import Templates
from omnichannel.types import utcnow
from omnichannel.web import officer_api, ppid_api
from router.delivery.answers import AnswerDesk

PPID = {"Authorization": "Bearer tok-ppid"}
PUPR = {"Authorization": "Bearer tok-pupr"}


def make_config() -> Config:
    return parse_config(dedent("""
        agencies:
          - {code: ppid, name: PPID Diskominfo, officer_tokens: ["${TOK_PPID}"]}
          - {code: pupr, name: Dinas PUPR, officer_tokens: ["${TOK_PUPR}"]}
        """), env={"TOK_PPID": "tok-ppid", "TOK_PUPR": "tok-pupr"})


@pytest_asyncio.fixture
async def client(store: Any) -> AsyncIterator[TestClient]:
    now = utcnow()
    calendar = WorkingCalendar()
    async with store.session() as s:
        for n, (agency, kind) in enumerate((("ppid", "informasi"), ("ppid", "informasi"), ("pupr", "pengaduan")), 1):
            s.add(Case(id=n, ref=f"KAS-{n}"))
            await s.flush()
            s.add(Complaint(id=n, ref=f"ADU-{n}", connector="web", channel="webform", text="…", status="routed",
                            kind=kind, agency=agency, case_id=n, created_at=now))
            s.add(Ticket(id=n, ref=f"TIK-{n}", case_id=n, agency=agency, kind=kind, received_at=now,
                         sla_due=calendar.deadline(kind, now)))
        await s.commit()
    config = make_config()
    app = web.Application()
    app.router.add_routes(officer_api.routes(store, config, Templates(), AnswerDesk()))
    app.router.add_routes(ppid_api.routes(store, config, Templates(), AnswerDesk()))
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_decision_extension_and_keberatan_are_recorded_and_counted(client, store):
    calendar = WorkingCalendar()
    resp = await client.post("/api/v1/tickets/TIK-1/extend", headers=PPID, json={"note": "dokumen di arsip"})
    assert resp.status == 200
    async with store.session() as s:
        t1 = await s.get(Ticket, 1)
    assert t1.sla_extended and t1.sla_due == calendar.add_working_days(t1.received_at, 17)
    again = await client.post("/api/v1/tickets/TIK-1/extend", headers=PPID, json={"note": "lagi"})
    assert again.status == 422 and "already" in (await again.json())["reason"]
    complaint = await client.post("/api/v1/tickets/TIK-3/extend", headers=PUPR, json={"note": "x"})
    assert complaint.status == 422  # a pengaduan has no extension

    no_reason = await client.post("/api/v1/tickets/TIK-1/decision", headers=PPID,
                                  json={"outcome": "dikabulkan_sebagian"})
    assert no_reason.status == 422 and "reason" in (await no_reason.json())["reason"]
    other = await client.post("/api/v1/tickets/TIK-1/decision", headers=PUPR, json={"outcome": "dikabulkan"})
    assert other.status == 404
    partly = await client.post("/api/v1/tickets/TIK-1/decision", headers=PPID,
                               json={"outcome": "dikabulkan_sebagian", "reason": "pasal17h"})
    assert partly.status == 200 and (await partly.json())["status"] == "selesai"
    refused = await client.post("/api/v1/tickets/TIK-2/decision", headers=PPID,
                                json={"outcome": "ditolak", "reason": "belum_didokumentasikan"})
    assert (await refused.json())["status"] == "ditolak"
    wrong_kind = await client.post("/api/v1/tickets/TIK-3/decision", headers=PUPR, json={"outcome": "dikabulkan"})
    assert wrong_kind.status == 422

    bad = await client.post("/api/v1/tickets/TIK-2/keberatan", headers=PPID, json={"reason": "z"})
    assert bad.status == 422 and "Pasal 35" in (await bad.json())["reason"]
    filed = await client.post("/api/v1/tickets/TIK-2/keberatan", headers=PPID,
                              json={"reason": "a", "text": "Saya keberatan atas penolakan"})
    assert filed.status == 201
    body = await filed.json()
    async with store.session() as s:
        objection = (await s.exec(Objection.__table__.select())).first()
    assert body["keberatan"] == objection.ref and objection.ref.startswith("KEB-")
    assert objection.due_at == calendar.add_working_days(objection.filed_at, 30)
    hidden = await client.post(f"/api/v1/keberatan/{objection.ref}/answer", headers=PUPR,
                               json={"outcome": "ditolak", "answer": "…"})
    assert hidden.status == 404
    answered = await client.post(f"/api/v1/keberatan/{objection.ref}/answer", headers=PPID,
                                 json={"outcome": "dikabulkan", "answer": "Informasi akan diberikan"})
    assert answered.status == 200 and (await answered.json())["within_30_working_days"] is True

    today = calendar.local_date(utcnow())
    report = await build_report(store, make_config(), today - timedelta(days=1), today + timedelta(days=1),
                                as_of=utcnow() + timedelta(seconds=1))
    ppid = next(a for a in report["agencies"] if a["agency"] == "ppid")
    assert ppid["information"]["partly_granted"] == 1 and ppid["information"]["refused"] == 1
    assert ppid["information"]["refusal_reasons"] == {"belum_didokumentasikan": 1, "pasal17h": 1}
    assert ppid["keberatan"]["filed"] == 1 and ppid["keberatan"]["answered"] == 1
    assert ppid["first_response_working_days"]["count"] == 2  # closing is the response


async def test_answers_and_status_changes_record_first_response_and_reopening(client, store):
    reply = await client.post("/api/v1/tickets/TIK-3/reply", headers=PUPR, json={"text": "Segera kami cek"})
    assert reply.status == 201
    async with store.session() as s:
        first = (await s.get(Ticket, 3)).first_response_at
    assert first is not None
    for status in ("selesai", "diproses", "selesai"):
        resp = await client.post("/api/v1/tickets/TIK-3/status", headers=PUPR, json={"status": status})
        assert resp.status == 200
    async with store.session() as s:
        t3 = await s.get(Ticket, 3)
    assert t3.reopened == 1 and t3.first_response_at == first and t3.closed_at is not None
    report = await build_report(store, make_config(), date.today() - timedelta(days=2), date.today() + timedelta(days=2))
    assert next(a for a in report["agencies"] if a["agency"] == "pupr")["reopened"] == 1
