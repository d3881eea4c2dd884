"""Attachments on the officers' desk: listed in the ticket JSON, served by id with the stored type, and never to
an officer of another agency (by id, through another agency's ticket, by a ppid) — a coordinator sees them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import update

from omnichannel import attachments
from omnichannel.models import Complaint, EnvelopeRow
from omnichannel.templates import Templates
from omnichannel.web.desk import routes
from router.delivery.desk import AnswerDesk
from tests.images import EXE, PDF, png
from tests.omnichannel.web.test_desk_api import Client, login, seed_desk
from tests.omnichannel.web.test_officer_api import COORD, DINKES, PUPR, make_config

PHOTO = png()


async def seed_files(store: Any, root: Path) -> dict[str, Any]:
    """A photo and a PDF on dpupr's ticket (complaint 1), a program refused as metadata, a photo on dinkes's."""
    kept = [attachments.keep(PHOTO, "jalan rusak.png", "image/png", root=root, max_bytes=10**6),
            attachments.keep(PDF, "surat RT.pdf", "application/pdf", root=root, max_bytes=10**6),
            attachments.keep(EXE, "foto.jpg", "image/jpeg", root=root, max_bytes=10**6)]
    other = attachments.keep(png(10, 10, (0, 90, 0)), "puskesmas.png", "image/png", root=root, max_bytes=10**6)
    async with store.session() as s:
        for eid, items in ((1, kept), (4, [other])):
            await s.execute(update(EnvelopeRow).where(EnvelopeRow.id == eid).values(
                attachments=[{k: getattr(a, k) for k in a.__slots__} for a in items], complaint_id=eid))
        for eid in (2, 3, 5):
            await s.execute(update(EnvelopeRow).where(EnvelopeRow.id == eid).values(complaint_id=eid))
        await s.commit()
    return {"photo": "1-0", "pdf": "1-1", "exe": "1-2", "dinkes": "4-0"}


@pytest_asyncio.fixture
async def desk(store: Any, tmp_path: Path) -> AsyncIterator[tuple[TestServer, dict[str, Any]]]:
    await seed_desk(store)
    ids = await seed_files(store, tmp_path / "attachments")
    config = make_config().model_copy(update={"data_dir": tmp_path})
    app = web.Application()
    app.router.add_routes(routes(store, config, Templates(), AnswerDesk()))
    server = TestServer(app)
    await server.start_server()
    try:
        yield server, ids
    finally:
        await server.close()


async def test_the_ticket_lists_each_complaints_attachments(desk) -> None:
    server, ids = desk
    async with Client(server) as client:
        ticket = await (await client.get("/api/v1/tickets/TIK-2026-000001", headers=PUPR)).json()
    first = ticket["complaints"][0]
    assert [(a["id"], a["filename"], a["content_type"], a["stored"]) for a in first["attachments"]] == [
        ("1-0", "jalan rusak.png", "image/png", True), ("1-1", "surat RT.pdf", "application/pdf", True),
        ("1-2", "foto.jpg", "application/x-msdownload", False)]
    assert first["attachments"][0]["url"] == "/api/v1/attachments/1-0" and first["attachments"][2]["url"] is None
    assert first["attachments"][2]["skipped_reason"] == "type application/x-msdownload not accepted"
    assert all(c["attachments"] == [] for c in ticket["complaints"][1:])
    assert "path" not in first["attachments"][0]  # where files live is the server's business


async def test_the_owner_gets_the_bytes_with_the_stored_type_and_safe_headers(desk) -> None:
    server, ids = desk
    async with Client(server) as client:
        photo = await client.get("/api/v1/attachments/1-0", headers=PUPR)
        pdf = await client.get("/api/v1/attachments/1-1?unduh", headers=PUPR)
        refused = await client.get("/api/v1/attachments/1-2", headers=PUPR)
    assert photo.status == 200 and photo.body == PHOTO
    assert photo.headers["Content-Type"] == "image/png" and photo.headers["X-Content-Type-Options"] == "nosniff"
    assert photo.headers["Content-Disposition"] == ("inline; filename=\"jalan rusak.png\"; "
                                                    "filename*=UTF-8''jalan%20rusak.png")
    assert "sandbox" in photo.headers["Content-Security-Policy"]
    assert pdf.status == 200 and pdf.body == PDF and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("attachment;")
    assert refused.status == 404 and (await refused.json())["error"] == "not_stored"
    assert "application/x-msdownload not accepted" in (await refused.json())["reason"]


@pytest.mark.parametrize("who,headers,ident,status", [
    ("token dinkes → dpupr's photo", DINKES, "1-0", 404),
    ("token dinkes → dpupr's pdf", DINKES, "1-1", 404),
    ("token pupr → dinkes's photo", PUPR, "4-0", 404),
    ("token dinkes → its own photo", DINKES, "4-0", 200),
    ("coordinator → dpupr's photo", COORD, "1-0", 200),
    ("coordinator → dinkes's photo", COORD, "4-0", 200),
    ("no token", {}, "1-0", 401),
    ("wrong token", {"Authorization": "Bearer nope"}, "1-0", 401),
    ("no such envelope", PUPR, "99-0", 404),
    ("no such position", PUPR, "1-7", 404),
    ("not an id", PUPR, "..%2F..%2Fetc%2Fpasswd", 404),
    ("an envelope without attachments", PUPR, "3-0", 404),
])
async def test_access_by_id_follows_the_ticket_agency(desk, who, headers, ident, status) -> None:
    server, _ = desk
    async with Client(server) as client:
        resp = await client.get(f"/api/v1/attachments/{ident}", headers=headers)
    assert resp.status == status, (who, resp.body[:200])
    if status == 404:
        assert resp.body.startswith(b"{") and PHOTO not in resp.body  # the same answer as for a missing id


async def test_another_agencys_ticket_does_not_list_them_and_sessions_follow_the_same_rule(desk) -> None:
    server, _ = desk
    async with Client(server) as client:
        assert (await client.get("/api/v1/tickets/TIK-2026-000001", headers=DINKES)).status == 404
    for login_name, own, foreign in (("ani", "1-0", "4-0"), ("budi", "4-0", "1-0")):
        client, _ = await login(server, login_name)
        async with client:
            assert (await client.get(f"/api/v1/attachments/{own}")).status == 200
            assert (await client.get(f"/api/v1/attachments/{foreign}")).status == 404
    client, _ = await login(server, "kora")  # koordinator: every agency
    async with client:
        for ident in ("1-0", "4-0"):
            assert (await client.get(f"/api/v1/attachments/{ident}")).status == 200
    client, _ = await login(server, "dewi")  # ppid: information requests only, these are complaints
    async with client:
        for ident in ("1-0", "4-0"):
            assert (await client.get(f"/api/v1/attachments/{ident}")).status == 404


async def test_a_file_that_left_the_store_is_a_404_not_a_500(desk, store, tmp_path) -> None:
    server, _ = desk
    for f in (tmp_path / "attachments").rglob("*.png"):
        f.unlink()
    async with Client(server) as client:
        resp = await client.get("/api/v1/attachments/1-0", headers=PUPR)
    assert resp.status == 404 and (await resp.json())["error"] == "not_stored"


async def test_a_merged_complaints_attachment_follows_its_case(desk, store) -> None:
    server, _ = desk
    async with store.session() as s:  # complaint 4 (dinkes) merged into case 1's complaint 1: no case of its own
        await s.execute(update(Complaint).where(Complaint.id == 4).values(case_id=None, duplicate_of=1))
        await s.commit()
    async with Client(server) as client:
        assert (await client.get("/api/v1/attachments/4-0", headers=PUPR)).status == 200
        assert (await client.get("/api/v1/attachments/4-0", headers=DINKES)).status == 404


async def test_file_names_are_masked_like_the_text_for_viewers_without_full_access(desk, store) -> None:
    server, _ = desk
    async with store.session() as s:
        row = await s.get(EnvelopeRow, 4)
        row.attachments = [{**row.attachments[0], "filename": "KTP 3374011508900001 Warga 1.png"}]
        s.add(row)
        await s.commit()
    async with Client(server) as client:
        own = await (await client.get("/api/v1/tickets/TIK-2026-000002", headers=DINKES)).json()
        coordinator = await (await client.get("/api/v1/tickets/TIK-2026-000002", headers=COORD)).json()
    assert own["complaints"][0]["attachments"][0]["filename"] == "KTP 3374011508900001 Warga 1.png"
    masked = coordinator["complaints"][0]["attachments"][0]["filename"]
    assert "3374011508900001" not in masked and "Warga 1" not in masked and masked.endswith(".png")
    async with Client(server) as client:
        download = await client.get("/api/v1/attachments/4-0", headers=COORD)
    assert download.status == 200 and "3374011508900001" not in download.headers["Content-Disposition"]
