"""The citizen form's upload: multipart bodies with files, sniffed, limited, refused whole."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from connectors.webform.connector import WebformConfig, WebformConnector
from omnichannel.models import EnvelopeRow
from tests.contract.connector_contract import make_context
from tests.images import EXE, JPEG, PDF, png

PATH = "/api/v1/complaints"


@pytest.fixture
async def client(store, tmp_path):
    cfg = WebformConfig(name="web", kind="webform", max_files=3, max_file_bytes=20_000)
    conn = WebformConnector("web", cfg)
    await conn.start(make_context(store, tmp_path, "webform"), None)
    app = web.Application()
    app.router.add_routes(conn.routes())
    c = TestClient(TestServer(app))
    await c.start_server()
    yield c
    await c.close()


def form(text: str = "Jalan berlubang di depan SD 3, foto terlampir", files=(), **fields) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("text", text)
    for key, value in fields.items():
        data.add_field(key, value)
    for name, content, declared in files:
        data.add_field("files", content, filename=name, content_type=declared)
    return data


async def envelopes(store) -> list[EnvelopeRow]:
    async with store.session() as s:
        return list((await s.exec(select(EnvelopeRow).order_by(EnvelopeRow.id))).scalars())


def stored_files(tmp_path) -> list:
    root = tmp_path / "attachments"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def test_photos_and_a_pdf_are_stored_by_content_and_linked_to_the_complaint(client, store, tmp_path):
    picture = png()
    resp = await client.post(PATH, data=form(files=[("jalan.png", picture, "image/png"),
                                                    ("foto.jpeg", JPEG, "image/jpeg"),
                                                    ("surat.pdf", PDF, "application/octet-stream")],
                                             location="Jl. Merdeka 5, Kel. Babakan", anonymous="on"))
    assert resp.status == 201, await resp.text()
    (row,) = await envelopes(store)
    assert row.outcome == "complaint" and row.text.startswith("Jalan berlubang")
    assert row.meta["location"] == {"text": "Jl. Merdeka 5, Kel. Babakan"}
    kinds = [(a["filename"], a["content_type"], a["size"], a["skipped_reason"]) for a in row.attachments]
    assert kinds == [("jalan.png", "image/png", len(picture), None), ("foto.jpeg", "image/jpeg", len(JPEG), None),
                     ("surat.pdf", "application/pdf", len(PDF), None)]  # the PDF's type is the bytes', not the header's
    for att, content in zip(row.attachments, (picture, JPEG, PDF), strict=True):
        assert (tmp_path / "attachments" / att["path"]).read_bytes() == content
    raw = json.loads(row.raw)
    assert raw["anonymous"] is True and [f["sha256"] for f in raw["files"]] == [a["sha256"] for a in row.attachments]
    assert len(stored_files(tmp_path)) == 3  # no temporary file left behind


async def test_a_form_without_files_and_an_empty_file_input_work_as_before(client, store, tmp_path):
    data = form()
    data.add_field("files", b"", filename="", content_type="application/octet-stream")  # nothing chosen
    resp = await client.post(PATH, data=data)
    assert resp.status == 201, await resp.text()
    (row,) = await envelopes(store)
    assert row.attachments == [] and stored_files(tmp_path) == []


@pytest.mark.parametrize("files,status,message", [
    ([("besar.png", png(200, 200) + b"\x00" * 20_000, "image/png")], 413,
     "Berkas besar.png terlalu besar: paling besar 19 KB per berkas."),
    ([(f"f{i}.png", png(8 + i, 8), "image/png") for i in range(4)], 422,
     "Lampiran terlalu banyak: paling banyak 3 berkas untuk satu laporan."),
    ([("foto.jpg", EXE, "image/jpeg")], 415,
     "Berkas foto.jpg tidak dapat diterima: isinya bukan JPEG, PNG, WebP atau PDF."),
    ([("gambar.png", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "image/png")], 415,
     "Berkas gambar.png tidak dapat diterima: isinya bukan JPEG, PNG, WebP atau PDF."),
    ([("kosong.jpg", b"", "image/jpeg")], 422, "Berkas kosong.jpg kosong."),
])
async def test_a_bad_file_refuses_the_whole_submission_and_stores_nothing(client, store, tmp_path, files, status,
                                                                          message):
    good = [("baik.png", png(), "image/png")]
    resp = await client.post(PATH, data=form(files=good + files))
    body = await resp.json()
    assert resp.status == status, body
    assert body["message"] == message and body["problems"] == [{"field": "files", "problem": message}]
    assert await envelopes(store) == [] and stored_files(tmp_path) == []  # not even the good file
    ok = await client.post(PATH, data=form(files=good))
    assert ok.status == 201  # the server keeps serving


async def test_bad_fields_in_an_upload_store_no_file(client, store, tmp_path):
    resp = await client.post(PATH, data=form(text="", files=[("a.png", png(), "image/png")]))
    assert resp.status == 422 and await envelopes(store) == [] and stored_files(tmp_path) == []
    resp = await client.post(PATH, data=form(files=[("a.png", png(), "image/png")], nik="3201..."))
    assert resp.status == 422 and stored_files(tmp_path) == []


async def test_the_same_photo_twice_is_one_file_and_an_idempotent_retry_is_one_complaint(client, store, tmp_path):
    picture = png()
    headers = {"Idempotency-Key": "form-42"}
    first = await client.post(PATH, data=form(files=[("a.png", picture, "image/png")]), headers=headers)
    again = await client.post(PATH, data=form(files=[("a.png", picture, "image/png")]), headers=headers)
    other = await client.post(PATH, data=form(text="Lampu jalan mati", files=[("b.png", picture, "image/png")]))
    assert (first.status, again.status, other.status) == (201, 200, 201)
    assert (await first.json())["complaint"] == (await again.json())["complaint"]
    assert len(await envelopes(store)) == 2 and len(stored_files(tmp_path)) == 1


async def test_hmac_intake_takes_json_only(store, tmp_path):
    cfg = WebformConfig(name="web", kind="webform", auth="hmac", token="k" * 20)
    conn = WebformConnector("web", cfg)
    await conn.start(make_context(store, tmp_path, "webform"), None)
    app = web.Application()
    app.router.add_routes(conn.routes())
    async with TestClient(TestServer(app)) as c:
        resp = await c.post(PATH, data=form(files=[("a.png", png(), "image/png")]))
        assert resp.status == 415 and stored_files(tmp_path) == []
    async with store.session() as s:
        assert (await s.exec(select(func.count()).select_from(EnvelopeRow))).scalar_one() == 0


async def test_a_large_upload_is_streamed_to_disk_not_held_in_memory(store, tmp_path):
    import tracemalloc

    cfg = WebformConfig(name="web", kind="webform", max_file_bytes=20 * 1024 * 1024)
    conn = WebformConnector("web", cfg)
    await conn.start(make_context(store, tmp_path, "webform"), None)
    app = web.Application()
    app.router.add_routes(conn.routes())
    big = tmp_path / "scan.pdf"
    with big.open("wb") as f:  # a 12 MB PDF, written without holding it in memory either
        f.write(PDF)
        for _ in range(12 * 16):
            f.write(b"%" * 65_536)
    async with TestClient(TestServer(app)) as c:
        tracemalloc.start()
        try:
            with big.open("rb") as f:
                data = aiohttp.FormData()
                data.add_field("text", "Scan surat keterangan RT, ukurannya besar")
                data.add_field("files", f, filename="scan.pdf", content_type="application/pdf")
                resp = await c.post(PATH, data=data)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert resp.status == 201, await resp.text()
    (row,) = await envelopes(store)
    assert row.attachments[0]["size"] == big.stat().st_size
    print(f"peak traced memory for a 12 MB upload: {peak / 1e6:.2f} MB")
    assert peak < 4 * 1024 * 1024, peak  # client and server together, for a 12 MB body


async def test_temporary_upload_directories_left_by_a_crash_are_swept_at_start(store, tmp_path):
    import os

    root = tmp_path / "attachments"
    old, fresh = root / ".upload-old", root / ".upload-fresh"
    for folder in (old, fresh):
        folder.mkdir(parents=True)
        (folder / "0.part").write_bytes(b"half a photo")
    os.utime(old, (0, 0))  # left by a run that died long ago; fresh may be another replica's upload now
    conn = WebformConnector("web", WebformConfig(name="web", kind="webform"))
    await conn.start(make_context(store, tmp_path, "webform"), None)
    assert not old.exists() and fresh.exists()
