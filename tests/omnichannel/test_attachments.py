"""The attachment store: types from the bytes, content-addressed relative paths, reasons for what is not kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnichannel import attachments
from tests.images import EXE, JPEG, PDF, png


@pytest.mark.parametrize("head,expected", [
    (JPEG, "image/jpeg"), (png(), "image/png"), (b"GIF89a\x01\x00", "image/gif"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"), (PDF, "application/pdf"),
    (b"\x00\x00\x00\x18ftypheic", "image/heic"), (b"\x00\x00\x00\x18ftypisom", "video/mp4"),
    (b"OggS\x00\x02", "audio/ogg"), (b"ID3\x04", "audio/mpeg"), (b"PK\x03\x04", "application/zip"),
    (EXE, "application/x-msdownload"), (b"\x7fELF\x02", "application/x-executable"),
    (b"<svg onload=alert(1)>", "text/html"), ("Laporan warga, Rp 5.000 — terima kasih".encode(), "text/plain"),
    (b"\x00\x01\x02binary", None), (b"\xc3\x28 not utf-8 at all, in the middle", None),
])
def test_sniff_reads_the_magic_bytes(head: bytes, expected: str | None) -> None:
    assert attachments.sniff(head) == expected


def test_the_declared_type_counts_only_where_the_bytes_allow_it() -> None:
    assert attachments.content_type(EXE, "image/jpeg") == "application/x-msdownload"
    assert attachments.content_type(b"From: a@b\r\n\r\nisi", "message/rfc822") == "message/rfc822"
    assert attachments.content_type(b"<html>x</html>", "text/plain") == "text/html"
    assert attachments.content_type(b"a,b\n1,2\n", "text/csv; charset=utf-8") == "text/csv"
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert attachments.content_type(b"PK\x03\x04....", docx) == docx
    assert attachments.content_type(b"PK\x03\x04....", "image/png") == "application/zip"


def test_keep_stores_by_content_with_a_relative_path_and_gives_reasons(tmp_path: Path) -> None:
    picture = png()
    first = attachments.keep(picture, "a.png", "image/jpeg", root=tmp_path, max_bytes=10_000)
    again = attachments.keep(picture, "b.png", None, root=tmp_path, max_bytes=10_000)
    assert first.path == again.path == f"{first.sha256[:2]}/{first.sha256}.png" and first.content_type == "image/png"
    assert (tmp_path / first.path).read_bytes() == picture and len(list(tmp_path.rglob("*.png"))) == 1
    big = attachments.keep(picture, "a.png", "image/png", root=tmp_path, max_bytes=10)
    assert big.path is None and big.skipped_reason == f"larger than 10 bytes ({len(picture)})" and big.sha256
    exe = attachments.keep(EXE, "foto.jpg", "image/jpeg", root=tmp_path, max_bytes=10_000)
    assert exe.path is None and exe.skipped_reason == "type application/x-msdownload not accepted"
    unknown = attachments.keep(b"\x00\x01\x02", "x.bin", "application/foo", root=tmp_path, max_bytes=10_000)
    assert unknown.skipped_reason == "unknown type (declared application/foo)"
    nowhere = attachments.keep(picture, "a.png", None, root=None, max_bytes=10_000)
    assert nowhere.skipped_reason == "no attachment store"


def test_resolve_stays_inside_the_data_directory(tmp_path: Path) -> None:
    root = tmp_path / "data" / "attachments"
    kept = attachments.keep(PDF, "s.pdf", None, root=root, max_bytes=10_000)
    assert attachments.resolve(root, kept.path) == (root / kept.path).resolve()
    legacy = tmp_path / "data" / "attachments" / "telegram" / "old.jpg"  # an absolute path stored before
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(JPEG)
    assert attachments.resolve(root, str(legacy)) == legacy.resolve()
    (tmp_path / "secret.txt").write_text("x")
    (tmp_path / "data" / "omnichannel.db").write_text("the store")
    for bad in ("../../secret.txt", str(tmp_path / "secret.txt"), "/etc/passwd", "", None, "ab/missing.png",
                "../omnichannel.db", str(tmp_path / "data" / "omnichannel.db")):
        assert attachments.resolve(root, bad) is None, bad


def test_keep_file_moves_a_temporary_file_in(tmp_path: Path) -> None:
    root = tmp_path / "attachments"
    temp = tmp_path / "upload.part"
    temp.write_bytes(PDF)
    import hashlib

    digest = hashlib.sha256(PDF).hexdigest()
    rel = attachments.keep_file(temp, digest, "application/pdf", root)
    assert rel == f"{digest[:2]}/{digest}.pdf" and (root / rel).read_bytes() == PDF and not temp.exists()
    temp.write_bytes(PDF)  # the same content again: nothing new, the temporary file is gone
    assert attachments.keep_file(temp, digest, "application/pdf", root) == rel and not temp.exists()
