"""The mail parser on small hand-written fixtures (tests/data/mail/) and generated pathological input."""

from __future__ import annotations

import pytest

from connectors.email.attach import safe_filename
from connectors.email.connector import ImapConnector
from connectors.email.parse import ParseOptions, parse_message
from connectors.email.text import decode_bytes, html_to_text, strip_quotes_and_signature
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "mail"
OWN = frozenset({"pengaduan@kab-contoh.go.id"})


def parse(name: str, **options):
    raw = (DATA / name).read_bytes()
    return parse_message(raw, "INBOX/77/5", ParseOptions(own_addresses=OWN, **options))


def test_plain_quoted_printable_complaint():
    env = parse("plain_qp.eml")
    assert env.error is None and env.skip_reason is None
    assert env.sender.id == "budi.santoso@example.id" and env.sender.name == "Budi Santoso"
    assert env.subject == "Jalan rusak di Jl. Merdeka RT 03/RW 05"
    assert "sudah rusak parah sejak 3 bulan" in env.text and "diperbaiki 🙏" in env.text
    assert env.message_id == "<20260105081500.abc@example.id>"
    assert env.meta["message_id"] == env.message_id
    assert env.meta["folder"] == "INBOX" and env.meta["uidvalidity"] == 77 and env.meta["uid"] == 5
    assert env.origin == {"address": "budi.santoso@example.id", "name": "Budi Santoso",
                          "message_id": "<20260105081500.abc@example.id>",
                          "references": ["<20260105081500.abc@example.id>"],
                          "subject": "Jalan rusak di Jl. Merdeka RT 03/RW 05"}
    assert env.received_at.isoformat() == "2026-01-05T01:15:00+00:00"
    assert env.raw == (DATA / "plain_qp.eml").read_bytes()  # kept whole


def test_html_only_becomes_safe_text():
    env = parse("html_only.eml")
    assert env.subject == "Sampah tidak diangkut – Perumahan Indah"
    assert env.meta["html_only"] is True
    assert "Sampah di Perumahan Indah tidak diangkut & menumpuk." in env.text
    assert "Sudah 2 minggu.\nMohon ditindaklanjuti." in env.text
    for unsafe in ("<", "alert", "color:red", "javascript", "steal", "judul"):
        assert unsafe not in env.text


def test_reply_links_thread_and_ticket_ref_and_strips_quotes():
    env = parse("reply_with_ref.eml")
    assert env.ticket_ref == "ADU-2026-000123"
    assert env.reply_to == ["<ack-1.omnichannel@kab-contoh.go.id>", "<20260105081500.abc@example.id>"]
    assert "menulis:" in env.text and "> Simpan nomor ini." in env.text  # full text kept
    matching = env.meta["text_for_matching"]
    assert matching == "Lubangnya sekarang makin besar, saya lampirkan lokasi: dekat masjid Al-Ikhlas."
    assert env.origin["references"][-1] == "<reply-2@example.id>"


def test_ticket_ref_without_brackets():
    assert parse("subject_ref_only.eml").ticket_ref == "ADU-2026-000777"


def test_mislabelled_charsets_and_raw_8bit_header():
    env = parse("mislabelled.eml")
    assert env.subject == "Air PDAM keruh – café di Jl. Sudirman"
    assert "Café sebelah juga sama. Naïve ©" in env.text
    assert env.sender.id == "dewi@example.id" and env.sender.name


def test_unknown_charset_falls_back():
    env = parse("unknown_charset.eml")
    assert "Desa Mekarsari – sejak" in env.text


@pytest.mark.parametrize(("name", "reason"), [
    ("bounce_dsn.eml", "bounce (delivery status notification)"),
    ("read_receipt.eml", "read receipt (disposition notification)"),
    ("arf.eml", "abuse feedback report (ARF)"),
    ("auto_submitted.eml", "auto-reply (Auto-Submitted: auto-replied)"),
    ("vacation_id.eml", "auto-reply (vacation subject)"),
    ("precedence_bulk.eml", "bulk mail (Precedence: bulk)"),
    ("x_autoreply.eml", "auto-reply (X-Autoreply)"),
    ("own_address.eml", "mail from our own address (loop prevention)"),
])
def test_not_complaints_are_skipped_with_the_reason(name, reason):
    env = parse(name)
    assert env.error is None
    assert env.skip_reason == reason


def test_attachments_saved_within_limits_and_names_neutralised(tmp_path):
    store = tmp_path / "attachments"
    env = parse("attachments.eml", attachments_dir=store, max_attachment_bytes=2000,
                attachment_types=("image/*", "application/pdf"))
    assert env.text == "Saluran air di RT 02 mampet, foto terlampir."
    png, exe, pdf, win = env.attachments
    assert png.filename == "evil.png" and png.content_type == "image/png" and png.size == 72
    assert png.path == f"{png.sha256[:2]}/{png.sha256}.png"  # relative to the shared store, named by content
    assert (store / png.path).read_bytes().startswith(b"\x89PNG")
    assert exe.path is None and exe.skipped_reason == "type application/x-msdownload not accepted"
    assert pdf.filename == "laporan lengkap_RT02.pdf" and pdf.size > 2000
    assert pdf.path is None and pdf.skipped_reason.startswith("larger than 2000 bytes (")
    assert "/" not in win.filename and "\\" not in win.filename and win.filename.startswith("lampiran_con")
    assert win.sha256 == png.sha256
    saved = [p for p in store.rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to(store.resolve()) for p in saved) and len(saved) == 1  # evil.png and the CON name: same bytes, one file
    assert not (tmp_path / "etc").exists()


def test_no_attachment_store_keeps_metadata():
    env = parse("attachments.eml")
    assert [a.skipped_reason for a in env.attachments][0] == "no attachment store"
    assert all(a.sha256 for a in env.attachments)


def test_forwarded_message_text_and_attachment():
    env = parse("forwarded_rfc822.eml")
    assert env.text.startswith("Mohon ditindaklanjuti, terlampir email warga.")
    assert "Perihal: Drainase tersumbat" in env.text and "Café tutup." in env.text
    assert env.meta["text_for_matching"] == "Mohon ditindaklanjuti, terlampir email warga."
    assert [a.content_type for a in env.attachments] == ["message/rfc822"]
    assert env.attachments[0].filename == "Drainase tersumbat.eml"


def test_broken_boundary_keeps_the_text():
    env = parse("broken_boundary.eml")
    assert env.error is None and env.skip_reason is None
    assert "Lampu penerangan jalan di Jl. Kenanga mati" in env.text


def test_missing_headers():
    env = parse("missing_headers.eml")
    assert env.error is None and env.sender is None and env.message_id is None
    assert env.subject == "tanpa pengirim" and "genangan air" in env.text
    assert env.origin["address"] is None


def test_mbox_from_line_and_lf_endings():
    env = parse("lf_mbox_from_line.eml")
    assert env.sender.id == "budi@example.id" and env.subject == "Baris mbox di awal"


@pytest.mark.parametrize(("name", "error"), [
    ("not_mail.bin", "binary file (OLE/Outlook .msg), not a MIME message"),
    ("no_headers.txt", "no header fields: not an RFC 5322 message"),
])
def test_what_is_not_mail_is_quarantined(name, error):
    assert parse(name).error == error


def test_empty_file_is_skipped():
    env = parse("empty.eml")
    assert env.error is None and env.skip_reason == "empty message"


def test_huge_headers_are_bounded():
    refs = " ".join(f"<r{i}@example.id>" for i in range(20_000))
    raw = (f"From: a@example.id\r\nSubject: {'x' * 300_000}\r\nReferences: {refs}\r\n"
           f"In-Reply-To: <r19999@example.id>\r\n" + "X-Junk: y\r\n" * 20_000 + "\r\nisi\r\n").encode()
    env = parse_message(raw, "INBOX/1/1")
    assert env.error is None and env.text == "isi"
    assert len(env.subject) <= 998 and len(env.reply_to) == 30
    assert env.reply_to[0] == "<r19999@example.id>"


def test_nul_bytes_and_lone_surrogates_never_reach_the_store():
    raw = b"From: a@example.id\r\nSubject: nul\x00byte \xff\xfe\r\n\r\nisi\x00 \xc3\x28 teks\r\n"
    env = parse_message(raw, "INBOX/1/1")
    for value in (env.subject, env.text):
        assert "\x00" not in value
        value.encode("utf-8")  # no lone surrogates


def test_deeply_nested_multiparts_do_not_recurse_forever():
    depth = 60
    head = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
    tail = "".join(f"\r\n--b{i}--" for i in reversed(range(depth)))
    raw = ("From: a@example.id\r\nSubject: deep\r\n" + head + "Content-Type: text/plain\r\n\r\nisi" + tail).encode()
    env = parse_message(raw, "INBOX/1/1")
    assert env.error is None and "MimeTooDeep" in env.meta["defects"]


def test_charset_helpers():
    assert decode_bytes("ÄÖÜ".encode("cp1252"), "utf-8") == "ÄÖÜ"
    assert decode_bytes("日本語".encode("iso2022_jp"), "iso-2022-jp") == "日本語"
    assert decode_bytes("中文".encode("gb2312"), "gb2312") == "中文"
    assert decode_bytes("é ".encode() + "é".encode("latin-1"), "iso-8859-1") == "é é"
    assert decode_bytes(b"\x81\x8d", None) == "\x81\x8d"


def test_quote_and_signature_stripping_variants():
    outlook = "Sudah diperbaiki?\n\n________________________________\nDari: Layanan\nDikirim: Senin\n\nisi lama"
    assert strip_quotes_and_signature(outlook) == "Sudah diperbaiki?"
    gmail_en = "Thanks\n\nOn Mon, Jan 5, 2026 at 8:20 AM Layanan <p@kab.go.id>\nwrote:\n> old"
    assert strip_quotes_and_signature(gmail_en) == "Thanks"
    mobile = "Oke siap\n\nDikirim dari iPhone saya"
    assert strip_quotes_and_signature(mobile) == "Oke siap"


def test_html_to_text_blocks():
    assert html_to_text("<p>a</p><p>b &lt;c&gt;</p><div>d<br>e</div>") == "a\n\nb <c>\n\nd\ne"


@pytest.mark.parametrize(("name", "safe"), [
    ("../../etc/passwd", "passwd"), ("..\\..\\boot.ini", "boot.ini"), (".htaccess", "htaccess"),
    ("", "lampiran"), ("NUL.txt", "lampiran_NUL.txt"), ("a\x00b\r\n.pdf", "a_b_.pdf"), ("..", "lampiran"),
])
def test_safe_filename(name, safe):
    assert safe_filename(name) == safe


def test_reparse_classmethod_matches_the_parser():
    raw = (DATA / "plain_qp.eml").read_bytes()
    env = ImapConnector.reparse(raw, "INBOX/77/5")
    assert env.external_id == "INBOX/77/5" and env.error is None and env.subject.startswith("Jalan rusak")


def test_reparse_with_the_connector_config_uses_the_live_options(tmp_path):
    from connectors.email.config import ImapConfig

    config = ImapConfig(name="mail", host="127.0.0.1", username="u", password="p", own_addresses=list(OWN))
    own = (DATA / "own_address.eml").read_bytes()
    assert ImapConnector.reparse(own, "INBOX/1/1").skip_reason is None               # the old call: no own address
    assert ImapConnector.reparse(own, "INBOX/1/1", config).skip_reason.startswith("mail from our own address")
    photo = (DATA / "attachments.eml").read_bytes()
    live = ImapConnector.reparse(photo, "INBOX/1/2", config, tmp_path)
    assert any(a.path for a in live.attachments)                                      # saved, as on the live path
    assert not any(a.path for a in ImapConnector.reparse(photo, "INBOX/1/2").attachments)
