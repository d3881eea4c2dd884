"""Parsing in worker processes: the same envelopes as in-process, and a dying worker loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal

from connectors.email.parse import ParseOptions, parse_message
from connectors.email.pool import MailParser, RawMail
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "mail"
OWN = frozenset({"pengaduan@kab-contoh.go.id"})


def fixtures() -> list[RawMail]:
    files = sorted(p for p in DATA.iterdir() if p.is_file() and p.name != "README.md")
    return [RawMail(p.read_bytes(), f"INBOX/9/{n}", None) for n, p in enumerate(files, 1)]


def comparable(env) -> tuple:
    """Everything but ``received_at`` when the mail has no Date (then it is the time of parsing)."""
    return (env.external_id, env.raw, env.error, env.skip_reason, env.subject, env.text, env.sender,
            env.message_id, env.reply_to, env.ticket_ref, env.origin, env.meta, env.attachments)


async def test_worker_processes_give_the_same_envelopes_as_parsing_here(tmp_path):
    mails = fixtures()
    options = ParseOptions(own_addresses=OWN, attachments_dir=tmp_path / "att")
    parser = MailParser(2, options)
    try:
        pooled = await parser.parse(mails * 3)
    finally:
        parser.close()
    here = [parse_message(m.raw, m.external_id, options) for m in mails * 3]
    assert len(pooled) == len(here) == 3 * len(mails)
    assert [comparable(e) for e in pooled] == [comparable(e) for e in here]
    assert pooled[0].raw == mails[0].raw and pooled[0].raw != b""  # the bytes are put back


async def test_a_worker_killed_mid_batch_loses_nothing(tmp_path):
    body = "Jalan rusak, mohon diperbaiki. " * 200
    mails = [RawMail(f"From: w{i}@example.id\r\nSubject: Aduan {i}\r\nMessage-ID: <k{i}@x>\r\n\r\n{body}\r\n".encode(),
                     f"INBOX/9/{i}", None) for i in range(1, 3001)]
    parser = MailParser(1, ParseOptions())
    try:
        await parser.parse(mails[:1])                          # the worker is up
        pids = list(parser._pool._processes)
        parsing = asyncio.create_task(parser.parse(mails))
        await asyncio.sleep(0.05)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)                       # as the OOM killer would
        envelopes = await parsing
    finally:
        parser.close()
    assert [e.external_id for e in envelopes] == [m.external_id for m in mails]
    assert [e.subject for e in envelopes] == [f"Aduan {i}" for i in range(1, 3001)]
    assert all(e.error is None for e in envelopes)             # the mail was not to blame: none quarantined


async def test_closed_parser_parses_in_a_thread():
    parser = MailParser(1, ParseOptions())
    parser.close()
    mail = fixtures()[0]
    [env] = await parser.parse([mail])
    assert (env.external_id, env.raw) == (mail.external_id, mail.raw)
    assert env.skip_reason == "abuse feedback report (ARF)"
