"""A citizen files a keberatan against the decision on their information request themselves: through the
API and from the public status page (with the access key the web intake gave them), within 30 working days
of the decision; it lands for the PPID with its 30-working-day clock, the acknowledgement comes from the
editable template, and the report counts it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from omnichannel.config import Config, parse_config
from omnichannel.models import AuditEvent, Case, Complaint, EnvelopeRow, Objection, Ticket
from omnichannel.reports.figures import build_report
from omnichannel.sla import WorkingCalendar
from omnichannel.templates import Templates
from omnichannel.types import utcnow
from omnichannel.web import keberatan, officer_api, ppid_api
from router.delivery.answers import AnswerDesk
from tests.browser import artefacts, chromium

PPID = {"Authorization": "Bearer tok-ppid"}
KEY = "kunci-akses-rahasia-123"
ACK = "Keberatan {keberatan} atas {ref} kami terima; tanggapan paling lambat {due_at}. ({reason})"


def make_config() -> Config:
    return parse_config(dedent("""
        connectors:
          - {name: web, kind: webform, acknowledge: false}
        http:
          rate_limits: {enabled: false}
        agencies:
          - {code: ppid, name: PPID Diskominfo, officer_tokens: ["${TOK_PPID}"]}
          - {code: pupr, name: Dinas PUPR}
        """), env={"TOK_PPID": "tok-ppid"})


async def seed(store: Any, received_days_ago: int = 1) -> None:
    """ADU-1: an information request filed through the web form (its envelope keeps the access key);
    ADU-2: a complaint (pengaduan) with a key too."""
    calendar = WorkingCalendar()
    at = utcnow() - timedelta(days=received_days_ago)
    async with store.session() as s:
        for n, (agency, kind) in enumerate((("ppid", "informasi"), ("pupr", "pengaduan")), 1):
            s.add(Case(id=n, ref=f"KAS-{n}"))
            s.add(EnvelopeRow(id=n, connector="web", channel="webform", external_id=f"e{n}", received_at=at, raw=b"{}",
                              origin={"access": KEY}))
            await s.flush()
            s.add(Complaint(id=n, ref=f"ADU-2026-00000{n}", envelope_id=n, connector="web", channel="webform",
                            text="Mohon salinan kontrak proyek drainase", status="routed", kind=kind, agency=agency,
                            case_id=n, created_at=at))
            s.add(Ticket(id=n, ref=f"TIK-{n}", case_id=n, agency=agency, kind=kind, received_at=at,
                         sla_due=calendar.deadline(kind, at)))
        await s.commit()


def make_app(store: Any, templates: Templates) -> web.Application:
    config = make_config()
    app = web.Application()
    app.router.add_routes(officer_api.routes(store, config, templates, AnswerDesk()))
    app.router.add_routes(ppid_api.routes(store, config, templates, AnswerDesk()))
    app.router.add_routes(keberatan.routes(store, config, templates))
    return app


@pytest_asyncio.fixture
async def client(store: Any) -> AsyncIterator[TestClient]:
    await seed(store)
    async with TestClient(TestServer(make_app(store, Templates({"keberatan_ack": ACK})))) as c:
        yield c


async def test_a_citizen_objects_through_the_api(client, store):
    path = "/api/v1/complaints/ADU-2026-000001/keberatan"
    resp = await client.post(path, json={"akses": KEY, "reason": "a", "text": "Saya butuh dokumennya"})
    assert resp.status == 409 and (await resp.json())["error"] == "not_decided"  # nothing to object to yet
    resp = await client.post("/api/v1/tickets/TIK-1/decision", headers=PPID,
                             json={"outcome": "ditolak", "reason": "pasal17h"})
    assert resp.status == 200, await resp.text()
    resp = await client.post(path, json={"akses": "tebakan", "reason": "a"})
    assert resp.status == 404  # a wrong key looks like an unknown ref
    resp = await client.post(path, json={"akses": KEY, "reason": "z"})
    assert resp.status == 422 and "Pasal 35" in (await resp.json())["reason"]
    resp = await client.post(path, json={"akses": KEY, "reason": ["a"]})
    assert resp.status == 400
    resp = await client.post("/api/v1/complaints/ADU-2026-000002/keberatan", json={"akses": KEY, "reason": "a"})
    assert resp.status == 409 and (await resp.json())["error"] == "not_information_request"

    resp = await client.post(path + f"?akses={KEY}", json={"reason": "a", "text": "Saya butuh dokumennya"})
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["ticket"] == "TIK-1" and body["reason"] == "a" and body["keberatan"].startswith("KEB-")
    calendar = WorkingCalendar()
    from datetime import datetime

    filed, due = datetime.fromisoformat(body["filed_at"]), datetime.fromisoformat(body["due_at"])
    assert due == calendar.add_working_days(filed, 30)
    local_due = due.astimezone(calendar.zone).strftime("%d-%m-%Y")
    # the Pemda's own acknowledgement template, filled in Bahasa Indonesia
    assert body["message"] == (f"Keberatan {body['keberatan']} atas ADU-2026-000001 kami terima; tanggapan paling "
                               f"lambat {local_due}. (penolakan berdasarkan alasan pengecualian Pasal 17)")
    resp = await client.post(path, json={"akses": KEY, "reason": "e"})
    assert resp.status == 409 and (await resp.json())["error"] == "already_filed"

    # it lands for the PPID with its clock
    resp = await client.get("/api/v1/keberatan?open=true", headers=PPID)
    listed = (await resp.json())["keberatan"]
    assert [(k["ref"], k["ticket"], k["filed_by"], k["overdue"]) for k in listed] == \
        [(body["keberatan"], "TIK-1", "citizen", False)]
    assert listed[0]["due_at"] == body["due_at"] and listed[0]["text"] == "Saya butuh dokumennya"
    async with store.session() as s:
        events = (await s.exec(select(AuditEvent.actor).where(AuditEvent.action == "keberatan"))).scalars().all()
    assert events == ["warga:ADU-2026-000001"]

    # the report counts it
    today = calendar.local_date(utcnow())
    report = await build_report(store, make_config(), today - timedelta(days=3), today)
    ppid = next(a for a in report["agencies"] if a["agency"] == "ppid")
    assert ppid["keberatan"]["filed"] == 1 and ppid["keberatan"]["reasons"] == {"a": 1}

    # answered, the citizen may not object again after the 30 working days
    resp = await client.post(f"/api/v1/keberatan/{body['keberatan']}/answer", headers=PPID,
                             json={"outcome": "ditolak", "answer": "Tetap dikecualikan."})
    assert resp.status == 200
    async with store.session() as s:
        ticket = await s.get(Ticket, 1)
        ticket.closed_at = utcnow() - timedelta(days=60)
        s.add(ticket)
        await s.commit()
    resp = await client.post(path, json={"akses": KEY, "reason": "a"})
    assert resp.status == 422 and (await resp.json())["error"] == "too_late"


async def test_an_unanswered_request_past_its_deadline_allows_only_grounds_c_and_g(store):
    await seed(store, received_days_ago=40)  # 10 working days passed long ago, no decision
    async with TestClient(TestServer(make_app(store, Templates()))) as client:
        path = "/api/v1/complaints/ADU-2026-000001/keberatan"
        resp = await client.post(path, json={"akses": KEY, "reason": "a"})
        assert resp.status == 422
        resp = await client.post(path, json={"akses": KEY, "reason": "c", "text": "Tidak ada jawaban"})
        assert resp.status == 201, await resp.text()
        assert "Atasan PPID wajib memberikan tanggapan" in (await resp.json())["message"]  # the default template


def file_from_the_page(driver, url: str, shots: Path) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    seen: dict = {}
    driver.set_window_size(1366, 900)
    driver.get(url)
    seen["decision"] = driver.find_element(By.ID, "keputusan").text
    seen["reasons"] = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "alasan")).options]
    driver.save_screenshot(str(shots / "keberatan-form-desktop.png"))
    driver.set_window_size(412, 900)
    seen["overflow"] = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    driver.save_screenshot(str(shots / "keberatan-form-phone.png"))
    Select(driver.find_element(By.ID, "alasan")).select_by_value("d")
    driver.find_element(By.ID, "isi").send_keys("Yang diberikan bukan dokumen yang saya minta.")
    driver.find_element(By.ID, "kirim-keberatan").click()
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    seen["ack"] = WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.ID, "tanda-terima")),
                                                  driver.page_source[-1500:]).text
    seen["form_after"] = len(driver.find_elements(By.ID, "form-keberatan"))
    seen["listed"] = driver.find_element(By.ID, "keputusan").text
    driver.save_screenshot(str(shots / "keberatan-ack-phone.png"))
    return seen


async def test_a_citizen_objects_from_the_status_page_in_chromium(store, tmp_path):
    await seed(store)
    shots = artefacts(tmp_path)
    async with TestServer(make_app(store, Templates())) as server:
        async with TestClient(server) as client:
            resp = await client.post("/api/v1/tickets/TIK-1/decision", headers=PPID,
                                     json={"outcome": "dikabulkan_sebagian", "reason": "pasal17a"})
            assert resp.status == 200
            assert (await client.get("/status/ADU-2026-000001?akses=salah")).status == 404
            base = str(server.make_url("")).rstrip("/")
            with chromium() as driver:
                seen = await asyncio.to_thread(file_from_the_page, driver, f"{base}/status/ADU-2026-000001?akses={KEY}",
                                               shots)
    assert "dikabulkan sebagian" in seen["decision"] and "Pasal 17 huruf a" in seen["decision"]
    assert seen["reasons"] == list("abcdefg") and seen["overflow"] <= 0
    assert "telah kami terima dengan nomor KEB-" in seen["ack"]
    assert seen["form_after"] == 0 and "menunggu tanggapan atasan PPID" in seen["listed"]
    async with store.session() as s:
        objection = (await s.exec(select(Objection))).scalars().one()
    assert objection.reason == "d" and objection.text.startswith("Yang diberikan") and objection.actor.startswith("warga:")
