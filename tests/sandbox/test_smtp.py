"""The SMTP sink of the demo: real clients (aiosmtplib, smtplib) deliver to it; its answers follow RFC 5321."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

import aiosmtplib
import pytest

from omnichannel.sandbox.smtp import SmtpSink


def _message(text: str, to: str = "agus.wibowo@contoh.co.id") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Layanan Pengaduan <pengaduan@semarangkota.go.id>"
    msg["To"] = to
    msg["Subject"] = "Re: Pelayanan Puskesmas Ngaliyan lambat [ADU-2026-000004]"
    msg.set_content(text)
    return msg


async def _talk(port: int, *lines: str) -> list[str]:
    """Send raw command lines one by one; return the reply line(s) to each, greeting first."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answers = [(await reader.readline()).decode().strip()]
    try:
        for line in lines:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()
            reply = (await reader.readline()).decode()
            while reply[3:4] == "-":
                reply = (await reader.readline()).decode()
            answers.append(reply.strip())
    finally:
        writer.close()
        await writer.wait_closed()
    return answers


async def test_aiosmtplib_and_smtplib_deliver_whole_messages() -> None:
    text = "Tanggapan Dinkes:\n.baris yang diawali titik\n.\nsudah ditangani ✓"
    async with SmtpSink() as sink:
        await aiosmtplib.send(_message(text), hostname="127.0.0.1", port=sink.port, start_tls=False, use_tls=False)

        def blocking() -> None:
            with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as client:
                client.send_message(_message(text), to_addrs=["a@contoh.id", "b@contoh.id"])

        await asyncio.to_thread(blocking)
    assert [d.recipients for d in sink.deliveries] == [["agus.wibowo@contoh.co.id"], ["a@contoh.id", "b@contoh.id"]]
    assert {d.sender for d in sink.deliveries} == {"pengaduan@semarangkota.go.id"}
    for message in sink.messages:
        assert message["Subject"] == "Re: Pelayanan Puskesmas Ngaliyan lambat [ADU-2026-000004]"
        assert message.get_content().rstrip("\n") == text  # dot-stuffing undone, UTF-8 intact


async def test_commands_out_of_order_and_unknown_ones_are_refused() -> None:
    async with SmtpSink() as sink:
        answers = await _talk(sink.port, "MAIL FROM:<a@b>", "EHLO client.local", "RCPT TO:<x@y>", "DATA",
                              "MAIL FROM:<a@b>", "MAIL FROM:<c@d>", "DATA", "RCPT TO:nobracket",
                              "STARTTLS", "AUTH PLAIN AGFAYg==", "BDAT 10", "VRFY x", "RSET", "NOOP", "QUIT")
    codes = [a[:3] for a in answers]
    assert codes == ["220", "503", "250", "503", "503", "250", "503", "503", "501", "502", "502", "500", "252",
                     "250", "250", "221"]
    assert sink.deliveries == []


async def test_a_message_over_the_size_limit_is_refused_and_the_session_goes_on() -> None:
    async with SmtpSink(max_size=2000) as sink:
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            await aiosmtplib.send(_message(("x" * 70 + "\n") * 100), hostname="127.0.0.1", port=sink.port,
                                  start_tls=False)
        assert refused.value.code == 552
        answers = await _talk(sink.port, "HELO c", "MAIL FROM:<a@b> SIZE=999999", "MAIL FROM:<a@b> SIZE=10",
                              "RCPT TO:<x@y>", "DATA")
        assert [a[:3] for a in answers] == ["220", "250", "552", "250", "250", "354"]
        reader, writer = await asyncio.open_connection("127.0.0.1", sink.port)
        await reader.readline()
        for line in ("HELO c", "MAIL FROM:<a@b>", "RCPT TO:<x@y>", "DATA"):
            writer.write(line.encode() + b"\r\n")
        writer.write(b"Subject: big\r\n\r\n" + b"y" * 900 + b"\r\n" + b"y" * 1500 + b"\r\n.\r\n")
        writer.write(b"MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nDATA\r\nSubject: small\r\n\r\nok\r\n.\r\nQUIT\r\n")
        await writer.drain()
        replies = (await reader.read()).decode().split("\r\n")
        writer.close()
        await writer.wait_closed()
    assert [r[:3] for r in replies if r] == ["250", "250", "250", "354", "552", "250", "250", "354", "250", "221"]
    assert [m["Subject"] for m in sink.messages] == ["small"]


async def test_stop_ends_idle_sessions_and_frees_the_port() -> None:
    sink = await SmtpSink().start()
    reader, writer = await asyncio.open_connection("127.0.0.1", sink.port)
    assert (await reader.readline()).startswith(b"220 ")
    await asyncio.wait_for(sink.stop(), 10)
    assert await asyncio.wait_for(reader.read(), 10) == b""  # the server closed the session
    writer.close()
    await writer.wait_closed()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", sink.port)
    await sink.stop()  # safe twice
