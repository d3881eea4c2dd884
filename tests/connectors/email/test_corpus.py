"""The shared real-world corpus (../shared/testdata/mail, 383 difficult mails) through Dovecot, the connector
and the real ingest: every one ends as a complaint, a follow-up, a skip with a reason, or quarantine."""

from __future__ import annotations

import collections
import csv
import re

import pytest
from imapclient.exceptions import IMAPClientError
from sqlalchemy import select

from connectors.email.config import SmtpConfig
from omnichannel.models import Complaint, EnvelopeRow, Quarantine
from tests.conftest import SHARED_TESTDATA
from tests.connectors.email import dovecot
from tests.connectors.email.test_answers import dispatch_all, route_all, routing_config
from tests.connectors.email.test_connector import (
    NAME,
    OWN,
    Sink,
    drain,
    make_config,
    server_search,
    smtp_server,
    started,
)

CORPUS = SHARED_TESTDATA / "mail"
dovecot_server = dovecot.dovecot_server  # pytest fixtures
mailbox = dovecot.mailbox
OUTCOMES = {"complaint", "follow_up", "skipped", "quarantined"}


def corpus_files() -> list[dict[str, str]]:
    """INDEX.tsv rows (path, bytes, source, note, kind); the files are only read, never changed."""
    with (CORPUS / "INDEX.tsv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.mark.skipif(not (CORPUS / "INDEX.tsv").is_file(),
                    reason=f"the shared mail corpus is not here ({CORPUS}); it lives beside the project checkout")
async def test_every_corpus_mail_is_accounted_for(mailbox, store, tmp_path):
    rows = corpus_files()
    on_disk = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*")
                     if p.is_file() and p.name not in ("INDEX.tsv", "SOURCES.md") and not p.name.startswith("."))
    assert sorted(r["path"] for r in rows) == on_disk                   # the index lists every file
    client = mailbox.client()
    by_uid: dict[int, dict[str, str]] = {}
    refused: list[tuple[str, str]] = []
    try:
        for row in rows:
            raw = (CORPUS / row["path"]).read_bytes()
            try:
                answer = client.append("INBOX", raw)
            except IMAPClientError as exc:                                   # e.g. a zero-byte file
                refused.append((row["path"], str(exc)))
                continue
            uid = int(re.search(rb"APPENDUID \d+ (\d+)", answer).group(1))
            by_uid[uid] = row
    finally:
        client.logout()
    appended = len(by_uid)
    assert appended + len(refused) == len(rows)
    assert len(server_search(mailbox, "INBOX", ["ALL"])) == appended

    sink = Sink()
    server, port = await smtp_server(sink)
    smtp = SmtpConfig(host="127.0.0.1", port=port, security="none", from_address=OWN)
    connector = await started(mailbox, store, tmp_path, batch_size=50, quarantine_folder="Quarantine",
                              max_attachment_bytes=2_000_000, smtp=smtp)
    try:
        await drain(connector, store)
        cfg = make_config(mailbox, smtp=smtp)
        await route_all(store, cfg)                                      # the real router acknowledges
        replies = await dispatch_all(store, routing_config(cfg), connector)  # the dispatcher sends by SMTP
    finally:
        await connector.stop()
        server.close()
        await server.wait_closed()

    async with store.session() as s:
        envelopes = (await s.exec(select(EnvelopeRow.external_id, EnvelopeRow.outcome, EnvelopeRow.reason)
                                  .where(EnvelopeRow.connector == NAME))).all()
        quarantined = (await s.exec(select(Quarantine.external_id).where(Quarantine.connector == NAME))).all()
    assert len(envelopes) == appended == len({e[0] for e in envelopes})
    assert {o for _, o, _ in envelopes} <= OUTCOMES
    assert all(reason for _, o, reason in envelopes if o in ("skipped", "quarantined"))
    assert len(quarantined) == sum(1 for _, o, _ in envelopes if o == "quarantined")
    assert server_search(mailbox, "INBOX", ["UNSEEN"]) == []
    assert len(server_search(mailbox, "INBOX", ["ALL"])) == appended - len(quarantined)
    assert len(server_search(mailbox, "Quarantine", ["ALL"])) == len(quarantined)

    # no answer to machine mail or spam; every answer sent, or dead-lettered with the reason
    async with store.session() as s:
        replied = dict((await s.exec(select(Complaint.ref, EnvelopeRow.external_id)
                                     .join(EnvelopeRow, EnvelopeRow.id == Complaint.envelope_id))).all())
    answered = [by_uid[int(replied[r.item_ref.split("#")[0]].rsplit("/", 1)[1])] for r in replies]
    machine = [(a["path"], a["kind"]) for a in answered if a["kind"] in ("auto", "spam")]
    assert machine == [], machine
    assert {r.status for r in replies} <= {"done", "dead"}
    assert all(r.last_error for r in replies if r.status == "dead")
    assert len(sink.messages) == sum(1 for r in replies if r.status == "done")

    tally = collections.Counter(o for _, o, _ in envelopes)
    by_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    reasons = collections.Counter()
    for external_id, outcome, reason in envelopes:
        row = by_uid[int(external_id.rsplit("/", 1)[1])]
        by_kind[row["kind"]][outcome] += 1
        if outcome in ("skipped", "quarantined"):
            reasons[f"{outcome}: {reason}"] += 1
    print(f"\nmail corpus: {len(rows)} files, {appended} appended, {len(refused)} refused by the server")
    print("  answered: " + ", ".join(f"{k} {v}" for k, v in sorted(collections.Counter(
        a["kind"] for a in answered).items())) + f"; replies done {len(sink.messages)}, dead "
        f"{sum(1 for r in replies if r.status == 'dead')}")
    for path, why in refused:
        print(f"  refused {path}: {why}")
    print("  outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())) + f" (sum {sum(tally.values())})")
    for kind, counts in sorted(by_kind.items()):
        print(f"  {kind:8} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for reason, n in reasons.most_common():
        print(f"  {n:4}  {reason}")
    assert sum(tally.values()) == appended
