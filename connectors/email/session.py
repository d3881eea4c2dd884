"""The blocking side of the email connector: one imapclient connection, used from one dedicated thread.

Nothing here touches the event loop. Library exceptions are translated at this boundary: a refused
login becomes ``AuthError``; a dropped or unreachable connection becomes ``ConnectionLost`` (the
connector reconnects with backoff and finally raises ``RetryableError``).
"""

from __future__ import annotations

import imaplib
import logging
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from imapclient import IMAPClient
from imapclient.exceptions import LoginError, ProtocolError

from connectors.email import fetch as imap_fetch
from connectors.email import parts
from connectors.email.config import ImapConfig
from connectors.email.parts import Omitted, PartLimits
from omnichannel.errors import AuthError

log = logging.getLogger(__name__)
IDLE_SLICE = 0.5  # seconds per idle_check, so stop() is noticed promptly
SEEN = b"\\Seen"


class ConnectionLost(Exception):
    """The IMAP connection is gone or never came up (network, server restart, kick, timeout)."""


# what a dropped connection looks like from imaplib/imapclient
DROPPED = (imaplib.IMAP4.abort, OSError, ProtocolError, EOFError)


def quiet_protocol_trace(client: IMAPClient) -> None:
    """Turn imaplib's protocol trace off unless the logger imapclient sends it to would keep it.

    imapclient sets imaplib's debug level to 5 to forward the trace to the ``imapclient.imaplib`` logger;
    imaplib then formats the ``repr`` of every line, every literal and every whole response before the
    logger drops it: for a FETCH of 500 mails, megabytes of text built for nothing (a third of the
    connector's fetch time). With that logger at DEBUG the trace stays on, as before."""
    imap = getattr(client, "_imap", None)
    if imap is not None and not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
        imap.debug = 0


@dataclass(slots=True)
class Fetched:
    """One message as fetched: the whole bytes, or only the header when it is over the size limit."""

    uid: int
    raw: bytes
    size: int
    internal_date: datetime | None
    truncated: bool = False
    parts: tuple[int, list[Omitted]] | None = None  # read in parts: (the mail's size, what was left)


@dataclass(slots=True)
class FolderInfo:
    """What SELECT said about a folder."""

    uidvalidity: int
    uidnext: int | None
    exists: int


class ImapSession:
    """One connection to the mailbox; every method blocks and must run on the connector's own thread."""

    def __init__(self, config: ImapConfig, stop: threading.Event) -> None:
        self.config = config
        self.stop = stop
        self.client: IMAPClient | None = None
        self.selected: str | None = None
        self.capabilities: set[bytes] = set()

    @property
    def connected(self) -> bool:
        """True while a logged-in connection is open (as far as we know)."""
        return self.client is not None

    def connect(self) -> None:
        """Open, secure and log in; raises ``AuthError`` or ``ConnectionLost``."""
        cfg = self.config
        context = ssl.create_default_context()
        try:
            client = IMAPClient(cfg.host, port=cfg.effective_port, ssl=cfg.security == "tls",
                                ssl_context=context if cfg.security == "tls" else None, timeout=cfg.timeout)
        except DROPPED as exc:
            raise ConnectionLost(f"cannot connect to {cfg.host}:{cfg.effective_port}: {exc}") from exc
        client.normalise_times = False
        quiet_protocol_trace(client)
        try:
            if cfg.security == "starttls":
                client.starttls(context)
            client.login(cfg.username, cfg.password.get_secret_value())
            self.capabilities = set(client.capabilities())
        except LoginError as exc:
            _close_quietly(client)
            raise AuthError(f"IMAP login refused for {cfg.username}@{cfg.host}: {_text(exc)}") from exc
        except DROPPED as exc:
            _close_quietly(client)
            raise ConnectionLost(f"connection to {cfg.host} lost during login: {exc}") from exc
        except imaplib.IMAP4.error as exc:  # e.g. STARTTLS refused: the configuration does not fit the server
            _close_quietly(client)
            raise AuthError(f"IMAP server {cfg.host} refused the session: {_text(exc)}") from exc
        self.client = client
        self.selected = None

    def close(self) -> None:
        """Log out (best effort) and forget the connection."""
        client, self.client, self.selected = self.client, None, None
        if client is not None:
            try:
                client.logout()
            except Exception:  # the connection may already be gone
                _close_quietly(client)

    def drop(self) -> None:
        """Forget a connection known to be broken, without talking to the server."""
        client, self.client, self.selected = self.client, None, None
        if client is not None:
            _close_quietly(client)

    def _require(self) -> IMAPClient:
        if self.client is None:
            raise ConnectionLost("not connected")
        return self.client

    def select(self, folder: str, readonly: bool = False) -> FolderInfo | None:
        """SELECT ``folder`` (``readonly``: EXAMINE); None when it does not exist."""
        client = self._require()
        try:
            info = client.select_folder(folder, readonly=readonly)
        except DROPPED:
            raise
        except imaplib.IMAP4.error as exc:
            if client.folder_exists(folder):
                raise
            log.debug("folder %s does not exist: %s", folder, exc)
            self.selected = None
            return None
        self.selected = folder
        uidnext = info.get(b"UIDNEXT")
        return FolderInfo(int(info[b"UIDVALIDITY"]), int(uidnext) if uidnext else None, int(info.get(b"EXISTS", 0)))

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above ``last_uid`` in the selected folder, ascending.

        ``N:*`` with N above the highest UID still returns the highest message (RFC 3501 6.4.8),
        so the result is filtered here.
        """
        found = self._require().search(["UID", f"{last_uid + 1}:*"])
        return sorted(u for u in found if u > last_uid)

    def fetch(self, uids: list[int], max_bytes: int, limits: PartLimits | None = None) -> list[Fetched]:
        """Whole messages (BODY.PEEK: \\Seen stays unset); over ``limits.over`` in parts; over ``max_bytes``
        only the header.

        One FETCH asks for the size, the date and at most ``limit + 1`` octets of each message (a second
        round trip for sizes alone cost a third of the fetch). A message that is larger, by its size or by
        the octets that came, is read in parts (``connectors.email.parts``) or, over ``max_bytes``, fetched
        again as its header only: never cut silently.
        """
        if not uids:
            return []
        client = self._require()
        whole = max_bytes if limits is None else min(max_bytes, limits.over)
        found = imap_fetch.fetch(client, uids, [b"RFC822.SIZE", b"INTERNALDATE",
                                                f"BODY.PEEK[]<0.{whole + 1}>".encode()])
        bodies: dict[int, bytes] = {}
        unanswered = []  # a server that answers a partial FETCH under another name: fetched whole, as before
        for uid, data in found.items():
            body = data.pop(b"BODY[]<0>", data.pop(b"BODY[]", None))
            if int(data.get(b"RFC822.SIZE", 0)) > whole or (body is not None and len(body) > whole):
                continue
            if body is None:
                unanswered.append(uid)
            else:
                bodies[uid] = bytes(body)
        if unanswered:
            for uid, data in client.fetch(unanswered, [b"BODY.PEEK[]"]).items():
                if data.get(b"BODY[]") is not None:
                    bodies[uid] = bytes(data[b"BODY[]"])
        large = [u for u in uids if u in found and u not in bodies and u not in unanswered]
        sizes = {uid: int(found[uid].get(b"RFC822.SIZE", 0)) for uid in found}
        in_parts = {u for u in large if limits is not None and sizes[u] <= max_bytes}
        heads = client.fetch(large, [b"BODY.PEEK[HEADER]"]) if large else {}
        read: dict[int, tuple[bytes, list[Omitted]]] = {}
        for uid in sorted(in_parts):
            if uid in heads and limits is not None:
                try:
                    read[uid] = self._read_in_parts(uid, bytes(heads[uid].get(b"BODY[HEADER]") or b""), limits)
                except (imaplib.IMAP4.abort, OSError, EOFError):
                    raise  # the connection, not the mail
                except (ProtocolError, imaplib.IMAP4.error, ValueError, TypeError, IndexError, KeyError) as exc:
                    # a structure the client cannot read: the mail is quarantined with its header, as one too large
                    log.warning("UID %d (%d bytes) could not be read in parts: %s: %s", uid, sizes[uid],
                                type(exc).__name__, exc)
        out = []
        for uid in uids:
            if uid not in found:
                continue  # expunged between SEARCH and FETCH
            size, when = sizes[uid], _utc(found[uid].get(b"INTERNALDATE"))
            if uid in bodies:
                out.append(Fetched(uid, bodies[uid], size, when))
            elif uid in read:
                out.append(Fetched(uid, read[uid][0], size, when, parts=(size, read[uid][1])))
            elif uid in heads:
                out.append(Fetched(uid, bytes(heads[uid].get(b"BODY[HEADER]") or b""), size, when, True))
        return out

    def _read_in_parts(self, uid: int, header: bytes, limits: PartLimits) -> tuple[bytes, list[Omitted]]:
        """The text and the accepted attachments of one large mail, put together; and what was left."""
        client = self._require()
        chosen = parts.plan(client.fetch([uid], [b"BODYSTRUCTURE"])[uid][b"BODYSTRUCTURE"], limits)
        data = client.fetch([uid], parts.items(chosen, limits)).get(uid, {}) if chosen.fetch else {}
        return parts.assemble(header, chosen, data), chosen.omitted

    def mark_seen(self, uids: list[int]) -> None:
        """Set \\Seen on ``uids`` in the selected folder."""
        if uids:
            self._require().add_flags(uids, [SEEN], silent=True)

    def move(self, uids: list[int], folder: str) -> None:
        """MOVE ``uids`` to ``folder`` (created when missing); COPY + \\Deleted + UID EXPUNGE without MOVE."""
        if not uids:
            return
        client = self._require()
        if not client.folder_exists(folder):
            try:
                client.create_folder(folder)
            except imaplib.IMAP4.error:
                if not client.folder_exists(folder):  # another client may have created it meanwhile
                    raise
        if b"MOVE" in self.capabilities:
            client.move(uids, folder)
            return
        client.copy(uids, folder)
        client.add_flags(uids, [b"\\Deleted"], silent=True)
        if b"UIDPLUS" in self.capabilities:
            client.uid_expunge(uids)
        # without UIDPLUS the \Deleted messages stay until someone expunges: never a blind EXPUNGE


def _utc(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def _text(exc: Exception) -> str:
    return str(exc).replace("b'", "'")[:200]


def _close_quietly(client: IMAPClient) -> None:
    try:
        client.shutdown()
    except Exception:  # already closed
        pass
