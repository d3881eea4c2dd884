"""Mail that decodes badly through a real Dovecot: a codec name for a charset, NUL bytes (served as 0x80)."""

from __future__ import annotations

from sqlalchemy import select

from omnichannel.models import EnvelopeRow
from tests.connectors.email import dovecot
from tests.connectors.email.test_connector import NAME, OWN, drain, started

dovecot_server = dovecot.dovecot_server  # pytest fixtures
mailbox = dovecot.mailbox
HEAD = (f"From: Warga <warga@example.id>\r\nTo: {OWN}\r\nSubject: {{subject}}\r\nMessage-ID: <{{subject}}@example.id>\r\n"
        "MIME-Version: 1.0\r\n")


async def stored(store) -> dict[str, EnvelopeRow]:
    async with store.session() as s:
        rows = (await s.exec(select(EnvelopeRow).where(EnvelopeRow.connector == NAME))).scalars().all()
    return {row.subject: row for row in rows}


async def test_an_unknown_or_bogus_charset_is_decoded_leniently_with_a_defect_noted(mailbox, store, tmp_path):
    bogus = (HEAD.format(subject="zlib") + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
             "Content-Type: text/plain; charset=utf-8\r\n\r\nJalan di RT 03 rusak parah.\r\n--b\r\n"
             "Content-Type: text/plain; charset=zlib\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").encode() + \
        "Mohon segera diperbaiki, sudah seminggu. Salam dari Café Siti\r\n--b--\r\n".encode("latin-1")
    unknown = (HEAD.format(subject="klingon") + "Content-Type: text/plain; charset=x-klingon-9\r\n"
               "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + "Lampu jalan mati di Gg. Melati, café ☕\r\n".encode()
    mailbox.append([bogus, unknown])
    connector = await started(mailbox, store, tmp_path)
    try:
        await drain(connector, store)
    finally:
        await connector.stop()
    rows = await stored(store)
    assert {s: r.outcome for s, r in rows.items()} == {"zlib": "complaint", "klingon": "complaint"}
    assert rows["zlib"].text == ("Jalan di RT 03 rusak parah.\n\n"
                                 "Mohon segera diperbaiki, sudah seminggu. Salam dari Café Siti")
    assert "UnknownCharsetDefect(zlib)" in rows["zlib"].meta["defects"]
    assert rows["klingon"].text == "Lampu jalan mati di Gg. Melati, café ☕"
    assert "UnknownCharsetDefect(x-klingon-9)" in rows["klingon"].meta["defects"]


async def test_nul_bytes_served_by_dovecot_decode_to_readable_text(mailbox, store, tmp_path):
    stray = (HEAD.format(subject="stray") + "Content-Type: text/plain; charset=utf-8\r\n\r\n").encode() + \
        b"Y\x00t\x00h\x00 Dinas PUPR, jalan\x00 rusak di RT 03.\r\n"
    wide = (HEAD.format(subject="wide") + "Content-Type: text/plain; charset=utf-16le\r\n"
            "Content-Transfer-Encoding: binary\r\n\r\n").encode() + "Jalan rusak parah di RT 03".encode("utf-16-le")
    mailbox.append([stray, wide])
    connector = await started(mailbox, store, tmp_path)
    try:
        await drain(connector, store)
    finally:
        await connector.stop()
    rows = await stored(store)
    assert b"\x80" in rows["stray"].raw and b"\x00" not in rows["stray"].raw   # what the server hands out
    assert rows["stray"].text == "Yth Dinas PUPR, jalan rusak di RT 03."
    assert rows["wide"].text == "Jalan rusak parah di RT 03"
