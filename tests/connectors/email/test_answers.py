"""What the email channel answers and what it never answers: copies of one mail, machine-generated mail,
reply addresses that cannot be written. Real Dovecot, the real ingest and router, an aiosmtpd server."""

from __future__ import annotations

from sqlalchemy import select

from connectors.email.config import ImapConfig
from omnichannel.config import AgencyConfig, Config
from omnichannel.models import EnvelopeRow, OutboxRow
from omnichannel.templates import Templates
from router.pipeline import RouterPipeline
from tests.connectors.email import dovecot
from tests.connectors.email.test_connector import NAME, complaint, drain, make_config, started

dovecot_server = dovecot.dovecot_server  # pytest fixtures
mailbox = dovecot.mailbox


def routing_config(connector: ImapConfig) -> Config:
    """The smallest daemon config the router needs to acknowledge mail of ``connector``."""
    return Config(connectors=[connector], agencies=[AgencyConfig(code="triage", name="Koordinator")])


async def route_all(store, connector: ImapConfig) -> list[OutboxRow]:
    pipe = RouterPipeline(routing_config(connector), store, Templates())
    await pipe.start()
    while await pipe.process_pending():
        pass
    async with store.session() as s:
        return list((await s.exec(select(OutboxRow).where(OutboxRow.item_type == "reply")
                                  .order_by(OutboxRow.id))).scalars().all())


async def envelopes(store) -> list[tuple[str, str, str | None]]:
    async with store.session() as s:
        q = select(EnvelopeRow.external_id, EnvelopeRow.outcome, EnvelopeRow.reason).where(
            EnvelopeRow.connector == NAME).order_by(EnvelopeRow.id)
        return [tuple(row) for row in (await s.exec(q)).all()]


async def test_copies_of_one_mail_are_skipped_as_duplicates_and_never_answered(mailbox, store, tmp_path):
    original = complaint(1)
    loop_copy = b"Received: from relay.example.id by mx.kab-contoh.go.id; Mon, 2 Mar 2026 09:00:00 +0700\r\n" + original
    list_copy = original.replace(b"Subject: Aduan c 1", b"Subject: [warga-rt05] Aduan c 1").replace(
        b"Content-Type:", b"List-Id: <warga-rt05.example.id>\r\nContent-Type:")
    mailbox.append([original, original])                       # delivered twice: one batch
    connector = await started(mailbox, store, tmp_path)
    try:
        await drain(connector, store)
        mailbox.append([loop_copy, list_copy, original])       # later copies: stored ones are compared
        await drain(connector, store)
    finally:
        await connector.stop()
    stored = await envelopes(store)
    assert [o for _, o, _ in stored] == ["complaint"] + ["skipped"] * 4
    assert all(reason.startswith("duplicate (a copy of INBOX/") for _, _, reason in stored[1:])
    replies = await route_all(store, make_config(mailbox))
    assert [r.payload["purpose"] for r in replies] == ["ack"]  # the original only, answered once
