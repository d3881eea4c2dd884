"""The email connector against a real Dovecot (tests/connectors/email/dovecot.py) and an in-process SMTP server."""

from __future__ import annotations

import asyncio
import email
import threading
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP as SmtpServer
from sqlalchemy import func, select

from connectors.email.config import ImapConfig, SmtpConfig
from connectors.email.connector import ImapConnector
from omnichannel.errors import AuthError, PermanentDeliveryError, RetryableError
from omnichannel.ingest import ingest_batch
from omnichannel.models import EnvelopeRow, Quarantine
from omnichannel.protocols import PluginContext
from omnichannel.templates import Templates
from omnichannel.types import OutboxItem
from tests.connectors.email import dovecot
from tests.connectors.email.dovecot import Mailbox, free_port
from tests.contract.connector_contract import PullConnectorContract

NAME = "mail"
dovecot_server = dovecot.dovecot_server  # pytest fixtures
mailbox = dovecot.mailbox
OWN = "pengaduan@kab-contoh.go.id"


def complaint(i: int, tag: str = "c", **headers: str) -> bytes:
    """A small citizen mail with a distinct Message-ID and text."""
    extra = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    return (f"From: Warga {i} <warga{i}@example.id>\r\nTo: {OWN}\r\nSubject: Aduan {tag} {i}\r\n"
            f"Message-ID: <{tag}-{i}@example.id>\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Jalan rusak di RT {i % 20} nomor {tag}-{i}, mohon diperbaiki.\r\n").encode()


def make_config(box: Mailbox, **overrides) -> ImapConfig:
    values = dict(name=NAME, host=box.host, port=box.port, security="none", username=box.user,
                  password=box.password, idle=False, batch_size=100, own_addresses=[OWN], timeout=10)
    values.update(overrides)
    return ImapConfig(**values)


def context(store, tmp_path: Path, name: str = NAME) -> PluginContext:
    return PluginContext(name=name, data_dir=tmp_path, attachments_dir=tmp_path / "attachments",
                         templates=Templates(), extra={"store": store})


async def started(box: Mailbox, store, tmp_path: Path, **overrides) -> ImapConnector:
    connector = ImapConnector(NAME, make_config(box, **overrides))
    await connector.start(context(store, tmp_path), await store.load_checkpoint(NAME))
    return connector


async def drain(connector: ImapConnector, store, *, max_polls: int = 500, tolerate_drops: bool = False) -> int:
    """Poll → store → ack until an empty poll, like the supervisor; returns how many envelopes were new."""
    new = 0
    for _ in range(max_polls):
        try:
            batch = await connector.poll()
        except RetryableError:
            if not tolerate_drops:
                raise
            continue
        if not batch.envelopes and batch.checkpoint is None:
            return new
        result = await ingest_batch(store, NAME, "email", batch)
        new += result.new
        await connector.ack(batch, result)
    raise AssertionError("mailbox never drained")


async def stored(store) -> tuple[int, int]:
    async with store.session() as s:
        q = select(func.count(), func.count(func.distinct(EnvelopeRow.message_id))).where(
            EnvelopeRow.connector == NAME)
        total, distinct = (await s.exec(q)).one()
    return int(total), int(distinct)


async def outcomes(store) -> dict[str, int]:
    async with store.session() as s:
        q = select(EnvelopeRow.outcome, func.count()).where(EnvelopeRow.connector == NAME).group_by(EnvelopeRow.outcome)
        return {o: int(n) for o, n in (await s.exec(q)).all()}


def server_search(box: Mailbox, folder: str, criteria: list) -> list[int]:
    client = box.client()
    try:
        if not client.folder_exists(folder):
            return []
        client.select_folder(folder, readonly=True)
        return client.search(criteria)
    finally:
        client.logout()


async def test_reads_everything_then_only_new_mail_and_sets_seen(mailbox, store, tmp_path):
    mailbox.append([complaint(i) for i in range(7)])
    connector = await started(mailbox, store, tmp_path, batch_size=3)
    try:
        assert await drain(connector, store) == 7
        assert server_search(mailbox, "INBOX", ["UNSEEN"]) == []
        mailbox.append([complaint(i) for i in range(7, 9)])
        assert await drain(connector, store) == 2
    finally:
        await connector.stop()
    assert await stored(store) == (9, 9)
    assert await outcomes(store) == {"complaint": 9}
    checkpoint = await store.load_checkpoint(NAME)
    assert checkpoint["folders"]["INBOX"]["last_uid"] == 9


@pytest.mark.parametrize("workers", [0, 1])  # 1: a worker process fetches and parses
async def test_restart_in_the_middle_of_a_fetch(mailbox, store, tmp_path, workers):
    mailbox.append([complaint(i) for i in range(60)])
    first = await started(mailbox, store, tmp_path, parse_workers=workers, batch_size=20)
    batch = await first.poll()
    await first.ack(batch, await ingest_batch(store, NAME, "email", batch))
    batch = await first.poll()
    await ingest_batch(store, NAME, "email", batch)           # stored, then "crash" before the ack
    poll = asyncio.ensure_future(first.poll())                # and a third fetch cut off mid-flight
    await asyncio.sleep(0)
    poll.cancel()
    await first.stop()
    second = await started(mailbox, store, tmp_path, parse_workers=workers, batch_size=20)
    try:
        assert await drain(second, store) == 20               # the unacked batch was absorbed
    finally:
        await second.stop()
    assert await stored(store) == (60, 60)
    assert server_search(mailbox, "INBOX", ["UNSEEN"]) == []


@pytest.mark.parametrize("workers", [0, 1])  # 1: a worker process fetches and parses
async def test_a_batch_read_ahead_is_dropped_unless_the_one_before_was_acknowledged(mailbox, store, tmp_path, workers):
    mailbox.append([complaint(i) for i in range(12)])
    connector = await started(mailbox, store, tmp_path, parse_workers=workers, batch_size=5, prefetch=True)
    try:
        first = await connector.poll()                        # the next five are being read meanwhile
        again = await connector.poll()                        # not stored, not acknowledged: read again
        assert [e.external_id for e in again.envelopes] == [e.external_id for e in first.envelopes]
        await connector.ack(again, await ingest_batch(store, NAME, "email", again))
        second = await connector.poll()                       # the read-ahead follows the acked position
        assert [e.meta["uid"] for e in second.envelopes] == [6, 7, 8, 9, 10]
        await connector.ack(second, await ingest_batch(store, NAME, "email", second))
        assert await drain(connector, store) == 2
    finally:
        await connector.stop()
    assert await stored(store) == (12, 12)
    assert server_search(mailbox, "INBOX", ["UNSEEN"]) == []


async def test_server_dropping_the_connection_mid_batch(mailbox, store, tmp_path):
    total = 1500
    mailbox.append([complaint(i) for i in range(total)])
    connector = await started(mailbox, store, tmp_path, batch_size=100, reconnect_attempts=5)
    batch = await connector.poll()
    result = await ingest_batch(store, NAME, "email", batch)
    mailbox.kick()                                            # dropped between commit and ack
    await connector.ack(batch, result)
    stop = threading.Event()

    def kicker() -> None:
        while not stop.wait(0.05):
            mailbox.kick()

    thread = threading.Thread(target=kicker)
    thread.start()
    try:
        await drain(connector, store, tolerate_drops=True)
    finally:
        stop.set()
        thread.join()
    try:
        await drain(connector, store)
    finally:
        await connector.stop()
    assert await stored(store) == (total, total)
    assert server_search(mailbox, "INBOX", ["UNSEEN"]) == []  # postponed acks caught up


async def test_uidvalidity_change_by_recreating_the_folder(mailbox, store, tmp_path):
    folder = "Pengaduan"
    mailbox.append([complaint(i) for i in range(5)], folder=folder)
    connector = await started(mailbox, store, tmp_path, folders=[folder])
    try:
        assert await drain(connector, store) == 5
        before = (await store.load_checkpoint(NAME))["folders"][folder]["uidvalidity"]
        client = mailbox.client()
        client.delete_folder(folder)
        client.create_folder(folder)
        client.logout()
        # the same five come back (e.g. restored from a backup) plus two new ones
        mailbox.append([complaint(i) for i in range(7)], folder=folder)
        assert await drain(connector, store) == 2
    finally:
        await connector.stop()
    checkpoint = (await store.load_checkpoint(NAME))["folders"][folder]
    assert checkpoint["uidvalidity"] != before and checkpoint["last_uid"] == 7 and "resync_until" not in checkpoint
    assert checkpoint["unacked"][1] == 7
    assert await stored(store) == (7, 7)
    assert server_search(mailbox, folder, ["UNSEEN"]) == []


async def test_uidvalidity_changed_in_place_absorbs_everything(mailbox, store, tmp_path):
    mailbox.append([complaint(i) for i in range(30)])
    connector = await started(mailbox, store, tmp_path, batch_size=7)
    try:
        assert await drain(connector, store) == 30
        mailbox.set_uidvalidity("INBOX", 424242)
        assert await drain(connector, store) == 0
    finally:
        await connector.stop()
    state = (await store.load_checkpoint(NAME))["folders"]["INBOX"]
    assert (state["uidvalidity"], state["last_uid"], "resync_until" in state) == (424242, 30, False)
    assert await stored(store) == (30, 30)


async def test_five_thousand_messages(mailbox, store, tmp_path):
    total = 5000
    mailbox.append([complaint(i) for i in range(total)])
    connector = await started(mailbox, store, tmp_path, batch_size=500)
    try:
        assert await drain(connector, store) == total
    finally:
        await connector.stop()
    assert await stored(store) == (total, total)
    assert await outcomes(store) == {"complaint": total}
    assert server_search(mailbox, "INBOX", ["UNSEEN"]) == []


async def test_mail_arriving_while_a_batch_is_fetched(mailbox, store, tmp_path):
    mailbox.append([complaint(i) for i in range(1000)])
    connector = await started(mailbox, store, tmp_path, batch_size=50)

    def arrive() -> None:
        for start in range(1000, 1300, 10):
            mailbox.append([complaint(i) for i in range(start, start + 10)])

    try:
        arriving = asyncio.create_task(asyncio.to_thread(arrive))
        await drain(connector, store)
        await arriving
        await drain(connector, store)
    finally:
        await connector.stop()
    assert await stored(store) == (1300, 1300)


async def test_idle_wakes_up_on_new_mail_and_stop_is_prompt(mailbox, store, tmp_path):
    connector = await started(mailbox, store, tmp_path, idle=True, idle_timeout=60, poll_timeout=90)
    try:
        assert b"IDLE" in connector._session.capabilities
        first = await connector.poll()                        # a new folder: only its checkpoint
        assert first.envelopes == [] and first.checkpoint["folders"]["INBOX"]["last_uid"] == 0
        await connector.ack(first, await ingest_batch(store, NAME, "email", first))
        poll = asyncio.create_task(connector.poll())
        await asyncio.sleep(0.3)
        assert not poll.done()                                # waiting in IDLE
        await asyncio.to_thread(mailbox.append, [complaint(1)])
        batch = await asyncio.wait_for(poll, 30)              # woken long before idle_timeout
        assert [e.subject for e in batch.envelopes] == ["Aduan c 1"]
        await connector.ack(batch, await ingest_batch(store, NAME, "email", batch))
        idle = asyncio.create_task(connector.poll())          # back in IDLE with nothing to read
        await asyncio.sleep(0.3)
    finally:
        await asyncio.wait_for(connector.stop(), 30)          # leaves IDLE through the stop event
    assert idle.done() and (await idle).envelopes == []


@pytest.mark.parametrize("workers", [0, 1])  # 1: a worker process fetches and parses
async def test_quarantine_move_and_skips(mailbox, store, tmp_path, workers):
    not_mail = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8
    bounce = (b"From: MAILER-DAEMON@mx.example.id\r\nSubject: Undelivered Mail\r\nMessage-ID: <b1@mx>\r\n"
              b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\n"
              b"Content-Type: text/plain\r\n\r\nfailed\r\n--x--\r\n")
    own = complaint(2).replace(b"From: Warga 2 <warga2@example.id>", f"From: {OWN}".encode())
    mailbox.append([complaint(1), not_mail, bounce, own])
    connector = await started(mailbox, store, tmp_path, parse_workers=workers, quarantine_folder="Karantina")
    try:
        await drain(connector, store)
    finally:
        await connector.stop()
    assert await outcomes(store) == {"complaint": 1, "quarantined": 1, "skipped": 2}
    assert len(server_search(mailbox, "INBOX", ["ALL"])) == 3
    assert server_search(mailbox, "Karantina", ["ALL"]) == [1]
    client = mailbox.client()
    client.select_folder("Karantina", readonly=True)
    on_server = client.fetch([1], ["BODY.PEEK[]"])[1][b"BODY[]"]
    client.logout()
    async with store.session() as s:
        kept = (await s.exec(select(Quarantine.raw, Quarantine.reason))).one()
    assert kept == (on_server, "binary file (OLE/Outlook .msg), not a MIME message")  # whole, both sides


@pytest.mark.parametrize("workers", [0, 1])  # 1: a worker process fetches and parses
async def test_mail_over_the_size_limit_is_quarantined_with_its_header_and_the_limit_itself_is_read_whole(
        mailbox, store, tmp_path, workers):
    small = complaint(1)
    at_limit = complaint(2, tag="x" * (len(small) - len(complaint(2)) + 500))   # 500 bytes longer than small
    big = complaint(3).replace(b"mohon diperbaiki.", b"mohon diperbaiki." + b" lubang" * 4000)
    mailbox.append([small, at_limit, big])
    connector = await started(mailbox, store, tmp_path, parse_workers=workers, max_message_bytes=len(at_limit))
    try:
        batch = await connector.poll()
        assert [e.raw for e in batch.envelopes[:2]] == [small, at_limit]            # whole, not a byte cut
        assert batch.envelopes[2].error.startswith(f"message of {len(big)} bytes is over max_message_bytes")
        assert batch.envelopes[2].raw == big.split(b"\r\n\r\n")[0] + b"\r\n\r\n"  # the header only
        await connector.ack(batch, await ingest_batch(store, NAME, "email", batch))
    finally:
        await connector.stop()
    assert await outcomes(store) == {"complaint": 2, "quarantined": 1}
    assert server_search(mailbox, "Quarantine", ["ALL"]) == [1]


async def test_ack_move_to_processed_folder(mailbox, store, tmp_path):
    mailbox.append([complaint(i) for i in range(12)])
    connector = await started(mailbox, store, tmp_path, ack="move", processed_folder="Diproses", batch_size=5)
    try:
        assert await drain(connector, store) == 12
    finally:
        await connector.stop()
    assert server_search(mailbox, "INBOX", ["ALL"]) == []
    assert len(server_search(mailbox, "Diproses", ["ALL"])) == 12


async def test_replies_and_ticket_refs_become_follow_ups(mailbox, store, tmp_path):
    mailbox.append([complaint(1)])
    connector = await started(mailbox, store, tmp_path)
    try:
        await drain(connector, store)
        async with store.session() as s:
            from omnichannel.models import Complaint
            ref = (await s.exec(select(Complaint.ref))).scalar_one()
        quoting_ref = complaint(3, tag="t").replace(b"Subject: Aduan t 3", f"Subject: Re: [{ref}]".encode())
        mailbox.append([complaint(2, tag="r", In_Reply_To="<c-1@example.id>"), quoting_ref])
        await drain(connector, store)
    finally:
        await connector.stop()
    assert await outcomes(store) == {"complaint": 1, "follow_up": 2}


async def test_wrong_password_is_an_auth_error(mailbox, store, tmp_path):
    connector = ImapConnector(NAME, make_config(mailbox, password="salah"))
    with pytest.raises(AuthError):
        await connector.start(context(store, tmp_path), None)
    await connector.stop()


async def test_unreachable_server_is_retryable(store, tmp_path, dovecot_server):
    config = ImapConfig(name=NAME, host="127.0.0.1", port=free_port(), security="none", username="x",
                        password="y", reconnect_attempts=1)
    connector = ImapConnector(NAME, config)
    with pytest.raises(RetryableError):
        await connector.start(context(store, tmp_path), None)
    await connector.stop()


async def test_probe(mailbox):
    text = await ImapConnector(NAME, make_config(mailbox)).probe()
    assert "IDLE" in text and "INBOX: 0" in text


class Sink:
    """An SMTP handler that keeps what it receives, or answers with a configured error."""

    def __init__(self, answer: str = "250 OK", rcpt: str | None = None) -> None:
        self.answer, self.rcpt, self.messages = answer, rcpt, []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt:
            return self.rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.answer.startswith("250"):
            self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.original_content))
        return self.answer


async def smtp_server(handler: Sink):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SmtpServer(handler), "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def reply_item(origin: dict, purpose: str = "ack") -> OutboxItem:
    return OutboxItem(id=1, item_type="reply", item_ref=f"ADU-2026-000123#{purpose}", destination=f"reply:{NAME}",
                      payload={"origin": origin, "text": Templates()("ack", ref="ADU-2026-000123"),
                               "complaint": "ADU-2026-000123", "purpose": purpose, "public": False})


async def test_reply_by_smtp_in_the_citizens_thread(mailbox, store, tmp_path):
    sink = Sink()
    server, port = await smtp_server(sink)
    smtp = SmtpConfig(host="127.0.0.1", port=port, security="none", from_address=OWN, from_name="Layanan Pengaduan")
    connector = ImapConnector(NAME, make_config(mailbox, smtp=smtp))
    origin = ImapConnector.reparse(complaint(7), "INBOX/1/7").origin
    try:
        receipt = await connector.reply(reply_item(origin), "reply:ADU-2026-000123#ack:reply:mail")
        again = await connector.reply(reply_item(origin), "reply:ADU-2026-000123#ack:reply:mail")
    finally:
        server.close()
        await server.wait_closed()
    assert receipt.remote_ref == again.remote_ref                # the same Message-ID on a retry
    mail_from, rcpt, raw = sink.messages[0]
    assert (mail_from, rcpt) == (OWN, ["warga7@example.id"])
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == "Re: Aduan c 7 [ADU-2026-000123]"
    assert msg["In-Reply-To"] == "<c-7@example.id>" and msg["References"] == "<c-7@example.id>"
    assert msg["Message-ID"] == receipt.remote_ref and msg["Auto-Submitted"] == "auto-replied"
    body = msg.get_content()
    assert "nomor ADU-2026-000123" in body and "tanpa mengubah nomor aduan [ADU-2026-000123]" in body
    # the citizen answers our acknowledgement: a follow-up of that thread, never skipped
    answer = complaint(8, tag="a", In_Reply_To=receipt.remote_ref).replace(
        b"Subject: Aduan a 8", b"Subject: " + msg["Subject"].encode())
    parsed = ImapConnector.reparse(answer, "INBOX/1/8")
    assert parsed.skip_reason is None and parsed.ticket_ref == "ADU-2026-000123"
    assert parsed.reply_to[0] == receipt.remote_ref


@pytest.mark.parametrize(("sink", "error"), [
    (Sink(answer="451 4.3.0 coba lagi nanti"), RetryableError),
    (Sink(answer="554 5.7.1 ditolak"), PermanentDeliveryError),
    (Sink(rcpt="550 5.1.1 tidak ada"), PermanentDeliveryError),
    (Sink(rcpt="452 4.2.2 penuh"), RetryableError),
])
async def test_smtp_errors_are_translated(mailbox, sink, error):
    server, port = await smtp_server(sink)
    smtp = SmtpConfig(host="127.0.0.1", port=port, security="none", from_address=OWN)
    connector = ImapConnector(NAME, make_config(mailbox, smtp=smtp))
    origin = ImapConnector.reparse(complaint(7), "INBOX/1/7").origin
    try:
        with pytest.raises(error):
            await connector.reply(reply_item(origin), "k")
    finally:
        server.close()
        await server.wait_closed()


async def test_smtp_unreachable_is_retryable_and_no_address_is_permanent(mailbox):
    smtp = SmtpConfig(host="127.0.0.1", port=free_port(), security="none", from_address=OWN, timeout=5)
    connector = ImapConnector(NAME, make_config(mailbox, smtp=smtp))
    origin = ImapConnector.reparse(complaint(7), "INBOX/1/7").origin
    with pytest.raises(RetryableError):
        await connector.reply(reply_item(origin), "k")
    with pytest.raises(PermanentDeliveryError):
        await connector.reply(reply_item({"address": None}), "k")


class TestImapContract(PullConnectorContract):
    """The shared pull-connector contract, run against Dovecot."""

    @pytest.fixture
    def contract_channel(self):
        return "email"

    @pytest.fixture
    def contract_secrets(self, mailbox):
        return [mailbox.password, "smtp-rahasia"]

    @pytest.fixture
    def contract_feed(self, mailbox):
        counter = iter(range(1_000_000))

        async def feed(n: int) -> None:
            await asyncio.to_thread(mailbox.append, [complaint(next(counter), tag="k") for _ in range(n)])

        return feed

    @pytest.fixture
    def contract_make_connector(self, mailbox):
        async def make() -> ImapConnector:
            smtp = SmtpConfig(host="127.0.0.1", port=25, security="none", from_address=OWN, username="u",
                              password="smtp-rahasia")
            return ImapConnector("contract", make_config(mailbox, name="contract", batch_size=3, smtp=smtp))

        return make
