"""Large mail is read in parts: memory is bounded by the limits, not by the mail. Real Dovecot."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import select

from omnichannel.ingest import ingest_batch
from omnichannel.models import EnvelopeRow
from tests.conftest import REPO
from tests.connectors.email import dovecot
from tests.connectors.email.test_connector import NAME, OWN, complaint, server_search, started

dovecot_server = dovecot.dovecot_server  # pytest fixtures
mailbox = dovecot.mailbox
MIB = 1024 * 1024


def mail_with(parts: list[tuple[str, str, bytes]], alternative: bool = True) -> bytes:
    """A citizen's mail: text (plain and HTML), then (content type, file name, content) attachments."""
    body = [f"From: Warga <warga@example.id>\r\nTo: {OWN}\r\nSubject: Foto jalan rusak\r\n"
            "Message-ID: <besar@example.id>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=luar\r\n\r\n"
            "--luar\r\n".encode()]
    text = "Jalan di RT 03 rusak parah, foto dan surat terlampir."
    if alternative:
        body.append(("Content-Type: multipart/alternative; boundary=dalam\r\n\r\n--dalam\r\n"
                     f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n--dalam\r\n"
                     f"Content-Type: text/html; charset=utf-8\r\n\r\n<p>{text}</p>\r\n--dalam--\r\n").encode())
    else:
        body.append(f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n".encode())
    for ctype, name, content in parts:
        encoded = base64.encodebytes(content).replace(b"\n", b"\r\n")
        body.append(f"--luar\r\nContent-Type: {ctype}; name=\"{name}\"\r\nContent-Disposition: attachment; "
                    f"filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n".encode() + encoded)
    body.append(b"--luar--\r\n")
    return b"".join(body)


async def test_a_large_mail_is_read_in_parts_and_what_is_left_is_listed(mailbox, store, tmp_path):
    letter = b"%PDF-1.4\n" + os.urandom(60_000)  # stored by what its bytes are, as a real PDF
    big = mail_with([("application/pdf", "surat.pdf", letter),
                     ("application/zip", "video.zip", os.urandom(300_000)),          # over max_attachment_bytes
                     ("application/x-msdownload", "setup.exe", os.urandom(1000))])   # type not accepted
    mailbox.append([complaint(1), big])
    connector = await started(mailbox, store, tmp_path, read_in_parts_over=200_000, max_attachment_bytes=200_000)
    try:
        batch = await connector.poll()
        await connector.ack(batch, await ingest_batch(store, NAME, "email", batch))
    finally:
        await connector.stop()
    small, env = batch.envelopes
    assert small.raw == complaint(1) and "read_in_parts" not in small.meta            # small mail: whole, as before
    assert env.error is None and env.skip_reason is None and env.subject == "Foto jalan rusak"
    assert env.text == "Jalan di RT 03 rusak parah, foto dan surat terlampir."
    assert env.meta["read_in_parts"] == {"size": len(big), "left_on_server": 2}
    assert len(env.raw) < 100_000 < len(big)                                          # what was read, not the mail
    by_name = {a.filename: a for a in env.attachments}
    assert by_name["surat.pdf"].sha256 == hashlib.sha256(letter).hexdigest() and by_name["surat.pdf"].path
    saved = by_name["surat.pdf"]  # Dovecot → a file in the shared store and the envelope row pointing at it
    assert saved.content_type == "application/pdf" and (tmp_path / "attachments" / saved.path).read_bytes() == letter
    async with store.session() as session:
        row = (await session.exec(select(EnvelopeRow).where(EnvelopeRow.external_id == env.external_id))).scalar_one()
    assert {a["filename"]: a["path"] for a in row.attachments}["surat.pdf"] == saved.path
    assert by_name["video.zip"].skipped_reason.startswith("larger than 200000 bytes: left on the mail server")
    assert by_name["setup.exe"].skipped_reason.startswith("type application/x-msdownload not accepted")
    assert server_search(mailbox, "INBOX", ["UNSEEN"]) == []                           # the whole mail stays


@pytest.mark.slow
def test_peak_memory_with_a_40_mb_mail_stays_under_200_mib(mailbox, tmp_path):
    big = mail_with([("image/jpeg", "foto.jpg", os.urandom(30 * MIB))], alternative=False)  # 40 MB as sent
    assert len(big) > 40_000_000
    mailbox.append([complaint(1), big, complaint(2)])
    del big
    env = {**os.environ, "OMNI_PROBE_PASSWORD": mailbox.password}
    done = subprocess.run([sys.executable, "-m", "tests.connectors.email.fresh", "tests.connectors.email.memory_probe",
                           mailbox.host, str(mailbox.port), mailbox.user, "", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "stored 3" in done.stdout, done.stdout
    peak = int(re.search(r"maxrss_kib (\d+)", done.stdout).group(1)) / 1024
    print(f"\npeak RSS while ingesting a mailbox with a 40 MB mail: {peak:.0f} MiB")
    assert peak < 200, f"peak RSS {peak:.0f} MiB"
