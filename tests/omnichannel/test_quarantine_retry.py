"""``omnichannel quarantine retry`` re-parses with the live options and never releases a truncated mail."""

from __future__ import annotations

from textwrap import dedent

from sqlalchemy import select

from omnichannel.config import parse_config
from omnichannel.ingest import ingest_batch
from omnichannel.models import EnvelopeRow, Quarantine
from omnichannel.quarantine import retry
from omnichannel.types import Batch, Envelope

CONFIG = dedent("""
    connectors:
      - name: mail
        kind: imap
        host: 127.0.0.1
        username: pengaduan@kota.go.id
        password: ${IMAP_PASSWORD}
        own_addresses: [pengaduan@kota.go.id]
    """)

OWN = (b"From: pengaduan@kota.go.id\r\nTo: warga@example.id\r\nSubject: Re: aduan\r\n"
       b"Message-ID: <own-1@kota.go.id>\r\n\r\nTerima kasih, aduan Anda kami terima.\r\n")
CITIZEN = (b"From: warga@example.id\r\nTo: pengaduan@kota.go.id\r\nSubject: Jalan rusak\r\n"
           b"Message-ID: <c-1@example.id>\r\n\r\nJalan di depan rumah saya berlubang besar.\r\n")


async def test_retry_uses_the_live_options_and_keeps_truncated_mail(store, tmp_path):
    config = parse_config(CONFIG, env={"IMAP_PASSWORD": "x"})
    config.data_dir = tmp_path
    await ingest_batch(store, "mail", "email", Batch([
        Envelope(external_id="INBOX/1/1", raw=OWN, error="parser crashed: bug 123"),
        Envelope(external_id="INBOX/1/2", raw=CITIZEN, error="parser crashed: bug 123"),
        Envelope(external_id="INBOX/1/3", raw=CITIZEN.split(b"\r\n\r\n")[0],
                 error="message of 60000000 bytes is over max_message_bytes (52428800); header kept here"),
    ]))
    tally = await retry(store, config)
    assert tally == {"retried": 3, "released": 2, "still_quarantined": 1}
    async with store.session() as s:
        outcomes = dict((await s.exec(select(EnvelopeRow.external_id, EnvelopeRow.outcome))).all())
        left = (await s.exec(select(Quarantine).where(Quarantine.resolved_at.is_(None)))).scalars().all()
    assert outcomes["INBOX/1/1"] == "skipped"  # our own address: no mail loop after a retry
    assert outcomes["INBOX/1/2"] == "complaint"
    assert [q.external_id for q in left] == ["INBOX/1/3"] and "max_message_bytes" in left[0].reason
