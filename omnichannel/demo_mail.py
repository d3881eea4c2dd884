"""Email for ``omnichannel demo`` and the end-to-end test: a throwaway Dovecot (IMAP) and an SMTP sink.

Dovecot runs in the foreground from a temporary config with one passwd-file user, as the IMAP test
fixture does (``tests/connectors/dovecot.py``); answers to citizens go to an in-process aiosmtpd
server that keeps every message. When either is missing, ``MailWorld.unavailable()`` says why and the
demo runs without email.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
USER = "pengaduan"
PASSWORD = "sandi-demo"  # a throwaway password of a throwaway mailbox on 127.0.0.1
ADDRESS = "pengaduan@semarangkota.go.id"

_CONF = """\
instance_name = omni-demo-{tag}
base_dir = {root}/run
state_dir = {root}/state
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
log_path = {root}/dovecot.log
default_internal_user = {internal}
default_login_user = {login}
mail_location = maildir:~/Maildir
mail_fsync = never
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  {chroot}
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  inet_listener http {{
    port = 0
  }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailWorld:
    """A Dovecot mailbox citizens write to and an SMTP sink our answers land in."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self.imap_port = 0
        self.smtp_port = 0
        self.received: list[email.message.EmailMessage] = []  # answers sent to citizens
        self._proc: subprocess.Popen[bytes] | None = None
        self._smtp: Any = None

    @staticmethod
    def unavailable() -> str | None:
        """Why email cannot run here, or None."""
        if DOVECOT is None:
            return "Dovecot is not installed (apt-get install dovecot-imapd)"
        try:
            import aiosmtpd  # noqa: F401
        except ImportError:
            return "aiosmtpd is not installed (pip install aiosmtpd, or pip install -e '.[dev]')"
        return None

    def start(self, timeout: float = 20.0) -> None:
        """Start Dovecot and the SMTP sink (blocking; call through ``asyncio.to_thread``)."""
        from aiosmtpd.controller import Controller

        self.root = Path(tempfile.mkdtemp(prefix="omni-demo-mail-"))
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir()
        os.chmod(self.root, 0o755)
        uid, gid = (os.getuid(), os.getgid()) if os.getuid() != 0 else (65534, 65534)
        os.chown(self.root / "home", uid, gid)
        users = self.root / "users"
        users.write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{self.root / 'home'}\n")
        os.chmod(users, 0o644)
        if os.getuid() == 0:
            internal, login, chroot = "dovecot", "dovenull", ""
        else:  # unprivileged: every service as ourselves, no chroot
            internal = login = pwd.getpwuid(os.getuid()).pw_name
            chroot = "chroot ="
        self.imap_port = _free_port()
        conf = self.root / "dovecot.conf"
        conf.write_text(_CONF.format(root=self.root, port=self.imap_port, tag=uuid.uuid4().hex[:8],
                                     internal=internal, login=login, chroot=chroot))
        self._proc = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None or time.monotonic() > deadline:
                log = (self.root / "dovecot.log")
                tail = log.read_text(errors="replace")[-500:] if log.exists() else ""
                self.stop()
                raise RuntimeError(f"Dovecot did not start: {tail or 'no log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.imap_port), timeout=1) as s:
                    s.settimeout(2)
                    if s.recv(100).startswith(b"* OK"):
                        break
            except OSError:
                time.sleep(0.05)
        received = self.received

        class Sink:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
                return "250 OK"

        self.smtp_port = _free_port()
        self._smtp = Controller(Sink(), hostname="127.0.0.1", port=self.smtp_port)
        self._smtp.start()

    def stop(self) -> None:
        """Stop both servers and remove the mail directory (safe twice)."""
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._proc = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def _append(self, message: bytes) -> None:
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.imap_port, ssl=False, timeout=30)
        try:
            client.login(USER, PASSWORD)
            client.append("INBOX", message)
        finally:
            client.logout()

    async def deliver(self, message: bytes) -> None:
        """Put one message in the complaint mailbox, as if an MTA had delivered it."""
        await asyncio.to_thread(self._append, message)
