"""The LAPOR! sandbox behaves like the published API: tokens, XML, JSON, topics, pages, progression, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from omnichannel.sandbox.lapor import DAY, STATUSES, LaporSandbox

XML = ('<?xml version="1.0"?><lapor token="{token}"><pelapor><email>{email}</email><telpon>0812</telpon>'
       '<namadepan>Siti</namadepan><namabelakang>Aminah</namabelakang></pelapor>'
       '<laporan rahasia="0" anonim="{anonim}"><isi>Jalan berlubang di depan SDN 3 Cibeunying</isi></laporan></lapor>')
BEARER = {"Authorization": "Bearer sandbox-token"}


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[LaporSandbox]:
    async with LaporSandbox() as s:
        yield s


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_addstream_answers_tracking_and_transaction_ids(sandbox: LaporSandbox, http: aiohttp.ClientSession):
    async with http.post(f"{sandbox.base_url}/api/stream/addstream",
                         data=XML.format(token="sandbox-token", email="s@example.id", anonim=0)) as resp:
        assert resp.status == 200
        body = await resp.text()
    assert "<trackingid>" in body and "<transaksiid>" in body
    (report,) = sandbox.reports.values()
    assert report.tracking_id in body
    assert report.reporter == {"name": "Siti Aminah", "email": "s@example.id", "phone": "0812"}
    assert report.status == "belum terverifikasi"
    assert sandbox.submissions[0].parsed()["laporan@anonim"] == "0"


async def test_addstream_refuses_a_bad_token_and_keeps_the_body(sandbox: LaporSandbox,
                                                                http: aiohttp.ClientSession):
    async with http.post(f"{sandbox.base_url}/api/stream/addstream",
                         data=XML.format(token="wrong", email="", anonim=1)) as resp:
        assert resp.status == 401
        assert "token tidak valid" in await resp.text()
    assert sandbox.reports == {}
    assert len(sandbox.submissions) == 1 and sandbox.submissions[0].status == 401


async def test_json_create_get_search_and_followups(sandbox: LaporSandbox, http: aiohttp.ClientSession):
    body = {"isi": "Sampah menumpuk di pasar Kosambi sejak seminggu", "referensi": "TIK-2026-000001",
            "topik_id": 21, "anonim": True, "rahasia": False}
    async with http.post(f"{sandbox.base_url}/api/v1/laporan", json=body, headers=BEARER) as resp:
        assert resp.status == 201
        created = (await resp.json())["data"]
    tid = created["tracking_id"]
    async with http.get(f"{sandbox.base_url}/api/v1/laporan", params={"referensi": "TIK-2026-000001"},
                        headers=BEARER) as resp:
        assert [r["tracking_id"] for r in (await resp.json())["data"]] == [tid]
    async with http.get(f"{sandbox.base_url}/api/v1/laporan", params={"referensi": "TIK-2026-999999"},
                        headers=BEARER) as resp:
        assert (await resp.json())["data"] == []
    sandbox.advance(20 * DAY)
    async with http.get(f"{sandbox.base_url}/api/v1/laporan/{tid}", headers=BEARER) as resp:
        assert (await resp.json())["data"]["status"] == "selesai"
    async with http.get(f"{sandbox.base_url}/api/v1/laporan/{tid}/tindak-lanjut", headers=BEARER) as resp:
        (followup,) = (await resp.json())["data"]
    assert followup["status"] == "ditindaklanjuti" and "Saudara" in followup["isi"]
    async with http.get(f"{sandbox.base_url}/api/v1/laporan/{tid}") as resp:
        assert resp.status == 401


async def test_json_rejects_unknown_topic_and_short_text(sandbox: LaporSandbox, http: aiohttp.ClientSession):
    async with http.post(f"{sandbox.base_url}/api/v1/laporan", json={"isi": "x"}, headers=BEARER) as resp:
        assert resp.status == 422
    async with http.post(f"{sandbox.base_url}/api/v1/laporan", json={"isi": "cukup panjang isinya", "topik_id": 5000},
                         headers=BEARER) as resp:
        assert resp.status == 422
    assert sandbox.reports == {} and len(sandbox.submissions) == 2


async def test_status_progresses_step_by_step_with_the_clock(sandbox: LaporSandbox, http: aiohttp.ClientSession):
    report = sandbox._create("json", {"text": "Lampu jalan mati di Jl. Soekarno-Hatta"})
    seen = []
    for step in range(5):
        async with http.get(f"{sandbox.base_url}/api/v1/laporan/{report.tracking_id}", headers=BEARER) as resp:
            seen.append((await resp.json())["data"]["status"])
        if step < 4:
            sandbox.advance(sandbox.schedule[STATUSES[step + 1]] - 60)
            async with http.get(f"{sandbox.base_url}/api/v1/laporan/{report.tracking_id}", headers=BEARER) as resp:
                assert (await resp.json())["data"]["status"] == seen[-1]  # not yet
            sandbox.advance(60)
    assert seen == ["belum terverifikasi", "terverifikasi", "didisposisikan", "ditindaklanjuti", "selesai"]


async def test_force_status_adds_a_tindak_lanjut_and_freezes(sandbox: LaporSandbox):
    report = sandbox._create("xml", {"text": "Banjir setinggi lutut di Kampung Melayu"})
    sandbox.force_status(report.tracking_id, "ditindaklanjuti", "Tim BPBD sudah diterjunkan ke lokasi.",
                         author="BPBD", freeze=True)
    sandbox.advance(100 * DAY)
    assert sandbox.progress(report).status == "ditindaklanjuti"
    assert [f["instansi"] for f in report.followups] == ["BPBD"]
    with pytest.raises(ValueError):
        sandbox.force_status(report.tracking_id, "hilang")


async def test_gettopics_needs_the_keytoken(sandbox: LaporSandbox, http: aiohttp.ClientSession):
    async with http.post(f"{sandbox.base_url}/api/services/f01/gettopics", data={"KEYTOKEN": "nope"}) as resp:
        assert resp.status == 401
    async with http.post(f"{sandbox.base_url}/api/services/f01/gettopics",
                         headers={"KEYTOKEN": "sandbox-keytoken"}) as resp:
        topics = (await resp.json())["data"]
    assert {"id", "parent", "topic_name"} <= set(topics[0])
    assert any(t["parent"] == 1 for t in topics)


async def test_report_page_hides_anonymous_reporter_and_confidential_text(sandbox: LaporSandbox,
                                                                          http: aiohttp.ClientSession):
    report = sandbox._create("xml", {"text": "Pungli di kantor kelurahan", "anonymous": True, "confidential": True,
                                     "reporter": {"name": "Budi"}})
    async with http.get(f"{sandbox.base_url}/pengaduan/{report.tracking_id}") as resp:
        page = await resp.text()
    assert "Anonim" in page and "Budi" not in page and "Pungli" not in page
    async with http.get(f"{sandbox.base_url}/pengaduan/1") as resp:
        assert resp.status == 404


async def test_injected_failures_rate_and_lost_answers(sandbox: LaporSandbox, http: aiohttp.ClientSession):
    sandbox.fail_next(2, status=429, retry_after=7)
    for _ in range(2):
        async with http.post(f"{sandbox.base_url}/api/v1/laporan", json={"isi": "isi laporan cukup"},
                             headers=BEARER) as resp:
            assert resp.status == 429 and resp.headers["Retry-After"] == "7"
    sandbox.failure_rate = 0.3
    statuses = []
    for _ in range(100):
        async with http.get(f"{sandbox.base_url}/api/v1/laporan", params={"referensi": "x"}, headers=BEARER) as resp:
            statuses.append(resp.status)
    failures = sum(1 for s in statuses if s >= 500)
    assert 15 <= failures <= 45 and set(statuses) <= {200, 500, 503}
    sandbox.failure_rate = 0.0
    sandbox.lose_next_answers(1)
    async with http.post(f"{sandbox.base_url}/api/v1/laporan", json={"isi": "isi laporan cukup"},
                         headers=BEARER) as resp:
        assert resp.status == 504
    assert len(sandbox.reports) == 1  # stored although the answer was lost


async def test_slow_answers(sandbox: LaporSandbox, http: aiohttp.ClientSession):
    sandbox.delay = 0.5
    with pytest.raises(asyncio.TimeoutError):
        async with http.post(f"{sandbox.base_url}/api/services/f01/gettopics",
                             timeout=aiohttp.ClientTimeout(total=0.1)):
            pass


async def test_control_routes_drive_the_sandbox_from_outside(sandbox: LaporSandbox, http: aiohttp.ClientSession):
    report = sandbox._create("json", {"text": "Drainase tersumbat di Jl. Gajah Mada"})
    base = f"{sandbox.base_url}/_sandbox/lapor"
    async with http.post(f"{base}/force", json={"tracking_id": report.tracking_id, "status": "ditindaklanjuti",
                                                "text": "Sudah dibersihkan."}) as resp:
        assert (await resp.json())["status"] == "ditindaklanjuti"
    async with http.post(f"{base}/force", json={"tracking_id": report.tracking_id, "status": "x"}) as resp:
        assert resp.status == 400
    async with http.post(f"{base}/advance", json={"days": 30}) as resp:
        assert resp.status == 200
    async with http.post(f"{base}/failures", json={"fail_next": 1, "status": 502}) as resp:
        assert resp.status == 200
    async with http.get(f"{sandbox.base_url}/api/v1/laporan/{report.tracking_id}", headers=BEARER) as resp:
        assert resp.status == 502
    async with http.get(f"{base}/reports") as resp:
        (state,) = (await resp.json())["reports"]
    assert state["status"] == "selesai" and state["followups"][0]["isi"] == "Sudah dibersihkan."
