"""Email for ``omnichannel demo`` and the end-to-end test: a throwaway Dovecot (IMAP) and an SMTP sink.

Dovecot runs in the foreground from a temporary config (``omnichannel/sandbox/dovecot.py``, the same
server the IMAP tests use); answers to citizens go to the in-process SMTP sink of
``omnichannel/sandbox/smtp.py`` (part of the package: no dev extra needed), which keeps every message.
When Dovecot is missing, ``MailWorld.unavailable()`` says why and the demo runs without email.
"""

from __future__ import annotations

import asyncio
import email.message
from pathlib import Path

from omnichannel.sandbox.dovecot import Dovecot, cleanup, dovecot_missing_reason, start_dovecot
from omnichannel.sandbox.smtp import SmtpSink

ADDRESS = "pengaduan@semarangkota.go.id"


class MailWorld:
    """A Dovecot mailbox citizens write to and an SMTP sink our answers land in."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self.imap_port = 0
        self.smtp_port = 0
        self.received: list[email.message.EmailMessage] = []  # answers sent to citizens
        self.server: Dovecot | None = None
        self.user = ""
        self.password = ""
        self._smtp: SmtpSink | None = None

    @staticmethod
    def unavailable() -> str | None:
        """Why email cannot run here (Dovecot is missing), or None."""
        return dovecot_missing_reason()

    async def start(self) -> None:
        """Start Dovecot (in a thread: it blocks until the server answers) and the SMTP sink on this loop."""
        self._smtp = await SmtpSink(hostname="smtp.demo.local", messages=self.received).start()
        self.smtp_port = self._smtp.port
        try:
            self.server = await asyncio.to_thread(start_dovecot)
            self.root = self.server.root
            self.imap_port = self.server.port
            box = await asyncio.to_thread(self.server.add_user)
        except BaseException:
            await self.stop()
            raise
        self.user, self.password = box.user, box.password

    async def stop(self) -> None:
        """Stop both servers and remove the mail directory (safe twice)."""
        if self._smtp is not None:
            await self._smtp.stop()
            self._smtp = None
        if self.server is not None:
            await asyncio.to_thread(cleanup, self.server)
            self.server = None
            self.root = None

    def _append(self, message: bytes) -> None:
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.imap_port, ssl=False, timeout=30)
        try:
            client.login(self.user, self.password)
            client.append("INBOX", message)
        finally:
            client.logout()

    async def deliver(self, message: bytes) -> None:
        """Put one message in the complaint mailbox, as if an MTA had delivered it."""
        await asyncio.to_thread(self._append, message)
