"""A real, throwaway Dovecot for tests, benchmarks and the demo: temporary config, passwd-file users, Maildir.

``dovecot -F -c CONF`` runs in the foreground under ``Popen`` (``master.pid`` is written only after a
daemonizing ``dovecot -c`` returns, which races). Mail lives on /dev/shm when it exists: appends are
fsync-bound on disk. Each test gets a fresh user (``mailbox`` fixture), so tests share one server
without seeing each other's mail; Dovecot re-reads the passwd-file when it changes.

The pytest fixtures built on it live in ``tests/connectors/email/dovecot.py``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
DOVEADM = shutil.which("doveadm") or ("/usr/bin/doveadm" if Path("/usr/bin/doveadm").exists() else None)
PASSWORD = "rahasia-uji"  # a throwaway password of throwaway users on 127.0.0.1

CONF = """\
instance_name = omni-test-{tag}
base_dir = {root}/run
state_dir = {root}/state
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
log_path = {root}/dovecot.log
default_internal_user = {internal_user}
default_login_user = {login_user}
mail_location = maildir:~/Maildir
mail_fsync = never
mail_max_userip_connections = 100
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


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    """One test user on the running Dovecot."""

    server: Dovecot
    user: str
    password: str

    @property
    def host(self) -> str:
        """Where the server listens."""
        return "127.0.0.1"

    @property
    def port(self) -> int:
        """The IMAP port."""
        return self.server.port

    def client(self, timeout: float = 30):
        """A logged-in imapclient connection (close it with ``logout``)."""
        from imapclient import IMAPClient

        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=timeout)
        client.login(self.user, self.password)
        return client

    def append(self, messages: list[bytes], folder: str = "INBOX", chunk: int = 500) -> int:
        """Store messages with MULTIAPPEND (chunks of ``chunk``); returns how many were appended."""
        client = self.client()
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for start in range(0, len(messages), chunk):
                part = messages[start:start + chunk]
                if len(part) == 1:
                    client.append(folder, part[0])
                else:
                    client.multiappend(folder, part)
        finally:
            client.logout()
        return len(messages)

    def kick(self) -> None:
        """Make the server drop every IMAP connection of this user (``doveadm kick``; none open is fine)."""
        self.server.doveadm("kick", self.user, ok=(0, 68))

    def set_uidvalidity(self, folder: str, value: int) -> None:
        """Change a folder's UIDVALIDITY in place (``doveadm mailbox update``)."""
        self.server.doveadm("mailbox", "update", "-u", self.user, "--uid-validity", str(value), folder)


class Dovecot:
    """A Dovecot master process on 127.0.0.1 with its own config, users file and mail root."""

    def __init__(self, root: Path, mail_root: Path, port: int) -> None:
        self.root, self.mail_root, self.port = root, mail_root, port
        self.conf = root / "dovecot.conf"
        self.proc: subprocess.Popen[bytes] | None = None
        self._users: list[str] = []
        self._uid = os.getuid() if os.getuid() != 0 else 65534
        self._gid = os.getgid() if os.getuid() != 0 else 65534

    def start(self, timeout: float = 15.0) -> None:
        """Write the config and start the master in the foreground; wait until the port greets."""
        for sub in ("run", "state"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "users").write_text("")
        os.chmod(self.root, 0o755)
        os.chmod(self.root / "users", 0o644)
        self._write_users(200)
        if os.getuid() == 0:
            internal, login, chroot = "dovecot", "dovenull", ""
        else:  # unprivileged: every service as ourselves, no chroot
            me = pwd.getpwuid(os.getuid()).pw_name
            internal, login, chroot = me, me, "chroot ="
        self.conf.write_text(CONF.format(root=self.root, port=self.port, tag=uuid.uuid4().hex[:8],
                                         internal_user=internal, login_user=login, chroot=chroot))
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.settimeout(2)
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"dovecot did not answer on port {self.port}: {self.log_tail()}")

    def stop(self) -> None:
        """Terminate the master (and its children) and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server log (for failure messages)."""
        try:
            return "\n".join((self.root / "dovecot.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _write_users(self, count: int) -> None:
        """Create ``count`` users at once: Dovecot re-reads the passwd-file at most once a second, so
        users written right before their first login can be missed."""
        lines = []
        for _ in range(count):
            name = f"u{uuid.uuid4().hex[:10]}"
            home = self.mail_root / name
            home.mkdir(parents=True)
            os.chown(home, self._uid, self._gid)
            lines.append(f"{name}:{{PLAIN}}{PASSWORD}:{self._uid}:{self._gid}::{home}\n")
            self._users.append(name)
        with (self.root / "users").open("a") as f:
            f.writelines(lines)

    def add_user(self) -> Mailbox:
        """A fresh user with an empty Maildir."""
        if not self._users:
            self._write_users(50)
            time.sleep(1.1)  # let the passwd-file's one-second re-read window pass
        return Mailbox(self, self._users.pop(0), PASSWORD)

    def doveadm(self, *args: str, ok: tuple[int, ...] = (0,)) -> str:
        """Run ``doveadm -c CONF ARGS``; returns stdout, raises on an exit code not in ``ok``."""
        done = subprocess.run([DOVEADM, "-c", str(self.conf), *args], capture_output=True, timeout=30)
        if done.returncode not in ok:
            raise RuntimeError(f"doveadm {' '.join(args)} failed ({done.returncode}): {done.stderr.decode()}")
        return done.stdout.decode()


def dovecot_missing_reason() -> str | None:
    """Why a real Dovecot cannot run here, or None when it can."""
    if DOVECOT is None:
        return "Dovecot is not installed (Debian package dovecot-imapd); the IMAP tests need a real server"
    if DOVEADM is None:
        return "doveadm is not installed (Debian package dovecot-core)"
    return None


def start_dovecot() -> Dovecot:
    """Start a Dovecot in fresh temporary directories (caller stops it and removes ``server.root``)."""
    root = Path(tempfile.mkdtemp(prefix="omni-dovecot-"))
    shm = Path("/dev/shm")
    mail_root = Path(tempfile.mkdtemp(prefix="omni-maildir-", dir=shm if shm.is_dir() else None))
    os.chmod(mail_root, 0o755)
    server = Dovecot(root, mail_root, free_port())
    try:
        server.start()
    except Exception:
        cleanup(server)
        raise
    return server


def cleanup(server: Dovecot) -> None:
    """Stop the server and remove its directories."""
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)
    shutil.rmtree(server.mail_root, ignore_errors=True)
