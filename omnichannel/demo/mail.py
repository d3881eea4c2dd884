"""Email for ``omnichannel demo`` and the end-to-end test: a throwaway Dovecot (IMAP) and an SMTP sink.

Dovecot runs in the foreground from a temporary config (``omnichannel/sandbox/dovecot.py``, the same
server the IMAP tests use); answers to citizens go to an in-process aiosmtpd
server that keeps every message. When either is missing, ``MailWorld.unavailable()`` says why and the
demo runs without email.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from pathlib import Path
from typing import Any

from omnichannel.sandbox.dovecot import Dovecot, cleanup, dovecot_missing_reason, free_port, start_dovecot

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
        self._smtp: Any = None

    @staticmethod
    def unavailable() -> str | None:
        """Why email cannot run here, or None."""
        missing = dovecot_missing_reason()
        if missing is not None:
            return missing
        try:
            import aiosmtpd  # noqa: F401
        except ImportError:
            return "aiosmtpd is not installed (pip install aiosmtpd, or pip install -e '.[dev]')"
        return None

    def start(self, timeout: float = 20.0) -> None:
        """Start Dovecot and the SMTP sink (blocking; call through ``asyncio.to_thread``)."""
        from aiosmtpd.controller import Controller

        self.server = start_dovecot()
        self.root = self.server.root
        self.imap_port = self.server.port
        box = self.server.add_user()
        self.user, self.password = box.user, box.password
        received = self.received

        class Sink:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
                return "250 OK"

        self.smtp_port = free_port()
        self._smtp = Controller(Sink(), hostname="127.0.0.1", port=self.smtp_port)
        self._smtp.start()

    def stop(self) -> None:
        """Stop both servers and remove the mail directory (safe twice)."""
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
        if self.server is not None:
            cleanup(self.server)
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
