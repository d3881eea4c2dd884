"""What the email channel answers and what it never answers: copies of one mail, machine-generated mail,
reply addresses that cannot be written. Real Dovecot, the real ingest and router, an aiosmtpd server."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from connectors.email.config import ImapConfig, SmtpConfig
from connectors.email.connector import ImapConnector
from omnichannel.config import AgencyConfig, Config
from omnichannel.models import EnvelopeRow, OutboxRow
from omnichannel.templates import Templates
from omnichannel.transfer import export_rows
from router.delivery.dispatcher import Dispatcher
from router.pipeline import RouterPipeline
from tests.conftest import REPO
from tests.connectors.email import dovecot
from tests.connectors.email.test_connector import (
    NAME,
    OWN,
    Sink,
    complaint,
    drain,
    make_config,
    smtp_server,
    started,
)

dovecot_server = dovecot.dovecot_server  # pytest fixtures
mailbox = dovecot.mailbox
DATA = REPO / "tests" / "data"


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
    exported = [row for row in await export_rows(store) if row["outcome"] == "skipped"]
    assert [row["reason"][:9] for row in exported] == ["duplicate"] * 4   # visible in `omnichannel export`


async def dispatch_all(store, config: Config, connector) -> list[OutboxRow]:
    """Deliver every reply row through the real dispatcher and the connector's SMTP replier."""
    dispatcher = Dispatcher(store, config, {f"reply:{NAME}": connector}, owner="test", backoff_base=0.01,
                            backoff_max=0.05)
    for _ in range(50):
        if not await dispatcher.run_once():
            async with store.session() as s:
                if not (await s.exec(select(OutboxRow).where(OutboxRow.status.in_(("pending", "in_flight"))))).first():
                    break
            await asyncio.sleep(0.06)
    async with store.session() as s:
        return list((await s.exec(select(OutboxRow).where(OutboxRow.item_type == "reply")
                                  .order_by(OutboxRow.id))).scalars().all())


async def test_a_reply_address_the_header_model_refuses_is_repaired_or_dead_lettered_with_the_reason(
        mailbox, store, tmp_path):
    sink = Sink()
    server, port = await smtp_server(sink)
    smtp = SmtpConfig(host="127.0.0.1", port=port, security="none", from_address=OWN)
    cfg = make_config(mailbox, smtp=smtp)
    trailing_dot = complaint(1).replace(b"<warga1@example.id>", b"<claudia.shu@yahoo.com.>")
    unwritable = complaint(2).replace(b"<warga2@example.id>", b"<warga2@kab..contoh.id>")
    mailbox.append([trailing_dot, unwritable])
    connector = await started(mailbox, store, tmp_path, smtp=smtp)
    try:
        await drain(connector, store)
        await route_all(store, cfg)
        rows = await dispatch_all(store, routing_config(cfg), connector)
    finally:
        await connector.stop()
        server.close()
        await server.wait_closed()
    assert [(r.status, r.attempts) for r in rows] == [("done", 1), ("dead", 1)]  # never retried for ever
    assert "cannot be written in a mail header" in rows[1].last_error
    assert [rcpt for _, rcpt, _ in sink.messages] == [["claudia.shu@yahoo.com"]]


def test_labelled_indonesian_complaints_are_all_answered():
    """The no-answer signs never silence a citizen: every Indonesian text of the labelled sets, as a plain mail."""
    texts = [json.loads(line)["text"] for name in ("routing_labelled.jsonl", "dedup_labelled.jsonl")
             for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    silenced = []
    for n, text in enumerate(texts):
        raw = (f"From: Warga <warga{n}@gmail.com>\r\nTo: {OWN}\r\nSubject: Aduan\r\nMessage-ID: <{n}@mail.gmail.com>\r\n"
               f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n").encode()
        env = ImapConnector.reparse(raw, f"INBOX/1/{n}")
        if env.skip_reason or env.origin.get("no_reply"):
            silenced.append((text, env.skip_reason or env.origin["no_reply"]))
    spam = [t for t in texts if "PROMO" in t or "slot gacor" in t.lower()]
    assert len(texts) > 400 and [t for t, _ in silenced if t not in spam] == []
