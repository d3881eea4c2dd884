"""Email forwarder against an in-process aiosmtpd server: the shared contract, Message-ID, template, anonymity."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator
from email import policy
from typing import Any

import pytest
import pytest_asyncio
from aiosmtpd.smtp import SMTP

from omnichannel.config import AgencyConfig, Config
from omnichannel.errors import PermanentDeliveryError
from omnichannel.protocols import PluginContext
from omnichannel.templates import Templates
from omnichannel.types import OutboxItem
from router.delivery.forwarders.email import EmailForwarder, EmailForwarderConfig, message_id
from tests.contract.forwarder_contract import ForwarderContract, ticket_payload


class SmtpSink:
    """An SMTP server on 127.0.0.1 whose answers follow ``mode``."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.messages: list[email.message.EmailMessage] = []
        self.server: asyncio.base_events.Server | None = None
        self.port = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.mode == "reject":
            return "554 5.7.1 message refused"
        if self.mode == "fail":
            return "451 4.3.0 mailbox busy, try later"
        if self.mode == "hang":
            await asyncio.sleep(5)
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"

    async def start(self) -> SmtpSink:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: SMTP(self, hostname="sink.local"), "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None


class SmtpRemote:
    supports = {"ok", "reject", "fail", "hang", "down"}
    retry_after = 0.0

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def set_mode(self, mode: str) -> None:
        if mode == "down":
            await self.sink.stop()
            return
        if self.sink.server is None:
            await self.sink.start()
        self.sink.mode = mode

    def make_config(self, name: str) -> EmailForwarderConfig:
        return EmailForwarderConfig(name=name, port=self.sink.port, to=["pupr@pemkot.example.id"], timeout=1.0,
                                    max_attempts=3)

    async def received(self) -> list[str]:
        return [m["X-Omnichannel-Idempotency-Key"] for m in self.sink.messages]


@pytest_asyncio.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    s = await SmtpSink().start()
    yield s
    await s.stop()


class TestEmailContract(ForwarderContract):
    @pytest.fixture
    def contract_remote(self, sink: SmtpSink) -> SmtpRemote:
        return SmtpRemote(sink)


async def started(cfg: EmailForwarderConfig, tmp_path: Any) -> EmailForwarder:
    fwd = EmailForwarder(cfg.name, cfg)
    ctx = PluginContext(name=cfg.name, data_dir=tmp_path, attachments_dir=tmp_path, templates=Templates())
    ctx.extra["config"] = Config(agencies=[AgencyConfig(code="dpupr", name="Dinas PUPR", email="pupr@pemkot.example.id")])
    await fwd.start(ctx)
    return fwd


async def test_ticket_mail_goes_to_the_agency_with_a_stable_message_id(sink: SmtpSink, tmp_path: Any) -> None:
    fwd = await started(EmailForwarderConfig(name="mail", port=sink.port), tmp_path)
    item = OutboxItem(1, "ticket", "TIK-2026-000001", "mail", ticket_payload(1))
    receipt = await fwd.send(item, "ticket:TIK-2026-000001:mail")
    await fwd.send(item, "ticket:TIK-2026-000001:mail")  # a resend after a lost answer
    first, second = sink.messages
    assert first["Message-ID"] == second["Message-ID"] == receipt.remote_ref == message_id(
        "ticket:TIK-2026-000001:mail", "omnichannel.local")
    assert first["To"] == "pupr@pemkot.example.id"
    assert first["Subject"].startswith("[TIK-2026-000001] Jalan berlubang")
    body = first.get_content()
    assert "Tiket baru TIK-2026-000001 (pengaduan) untuk Dinas PUPR" in body
    assert "Batas waktu: 10-03-2026 16:00 WIB" in body and "Pelapor: Budi Santoso" in body


async def test_anonymous_reporter_is_not_in_the_mail(sink: SmtpSink, tmp_path: Any) -> None:
    fwd = await started(EmailForwarderConfig(name="mail", port=sink.port), tmp_path)
    await fwd.send(OutboxItem(1, "ticket", "TIK-2026-000002", "mail", ticket_payload(2, anonymous=True)), "k2")
    body = sink.messages[0].get_content()
    assert "Budi" not in body and "budi@example.id" not in body and "anonim" in body


async def test_no_mailbox_or_refused_recipient_is_permanent(sink: SmtpSink, tmp_path: Any) -> None:
    fwd = await started(EmailForwarderConfig(name="mail", port=sink.port), tmp_path)
    other = {**ticket_payload(3), "agency": "dinkes"}
    with pytest.raises(PermanentDeliveryError, match="no mailbox for agency 'dinkes'"):
        await fwd.send(OutboxItem(1, "ticket", "T", "mail", other), "k3")
    fwd = await started(EmailForwarderConfig(name="mail", port=sink.port, to=["nobody@pemkot.example.id"]), tmp_path)
    with pytest.raises(PermanentDeliveryError, match="550"):
        await fwd.send(OutboxItem(1, "ticket", "T", "mail", ticket_payload(3)), "k4")
    assert "answers" in await fwd.probe()


async def test_notification_mail(sink: SmtpSink, tmp_path: Any) -> None:
    fwd = await started(EmailForwarderConfig(name="mail", port=sink.port, to=["admin@pemkot.example.id"]), tmp_path)
    await fwd.send(OutboxItem(1, "notification", "stuck-x", "mail",
                              {"subject": "Pengiriman tertunda", "text": "Ada 3 pengiriman"}), "k5")
    assert sink.messages[0]["Subject"] == "Pengiriman tertunda"
    assert "Ada 3 pengiriman" in sink.messages[0].get_content()


async def test_a_new_ticket_mail_carries_the_reporters_files_within_the_cap(sink: SmtpSink, tmp_path: Any) -> None:
    from omnichannel import attachments
    from tests.images import PDF, png

    photo = png()
    big = PDF + b"%" * 5000
    kept = [attachments.keep(photo, "jalan.png", "image/png", root=tmp_path, max_bytes=10**6),
            attachments.keep(big, "surat.pdf", "application/pdf", root=tmp_path, max_bytes=10**6)]
    files = [{"filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256,
              "path": a.path} for a in kept]
    files.append({"filename": "hilang.jpg", "content_type": "image/jpeg", "size": 10, "path": "ab/gone.jpg"})
    cap = len(photo) + 1000  # the photo fits, the PDF does not
    fwd = await started(EmailForwarderConfig(name="mail", port=sink.port, max_attachment_bytes=cap), tmp_path)
    await fwd.send(OutboxItem(1, "ticket", "TIK-2026-000009", "mail", {**ticket_payload(9), "attachments": files}),
                   "k9")
    msg = sink.messages[0]
    parts = list(msg.iter_attachments())
    assert [(p.get_filename(), p.get_content_type()) for p in parts] == [("jalan.png", "image/png")]
    assert parts[0].get_content() == photo
    body = msg.get_body(("plain",)).get_content()
    assert "Tiket baru TIK-2026-000009" in body
    assert "tidak disertakan di email ini (lihat di Meja Petugas): surat.pdf, hilang.jpg." in body
    off = await started(EmailForwarderConfig(name="mail", port=sink.port, attach_files=False), tmp_path)
    await off.send(OutboxItem(2, "ticket", "TIK-2026-000009", "mail", {**ticket_payload(9), "attachments": files}),
                   "k10")
    assert list(sink.messages[1].iter_attachments()) == []
