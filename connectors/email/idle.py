"""IMAP IDLE kept open all the time, on a connection of its own, so new mail is seen at once.

One watcher thread per folder read: it logs in, EXAMINEs the folder (read-only: it never changes a
flag) and stays in IDLE, re-issued every ``renew`` seconds (RFC 2177 asks clients to end an IDLE
before the server's 30-minute inactivity timeout: re-issuing at most every 29 minutes). When the
server announces mail (EXISTS or RECENT) the watcher sets ``new_mail`` and calls ``wake``: the daemon
then polls at once instead of at the next interval. The watcher only wakes; reading, storing and
acknowledging stay with the connector's own connection and its checkpoint. A dropped connection is
reconnected with backoff (and counts as "maybe new mail": the next poll looks); a refused login stops
the watcher (the connector then polls on its interval, as against a server without IDLE).

``idle_check`` is called in short slices, so ``stop`` ends the IDLE (DONE, LOGOUT) within about half a
second, which keeps shutdown within its deadline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from connectors.email.config import ImapConfig
from connectors.email.session import DROPPED, IDLE_SLICE, ConnectionLost, ImapSession
from omnichannel.errors import AuthError

log = logging.getLogger(__name__)
MAX_BACKOFF = 30.0


class IdleWatcher:
    """One thread holding IDLE on one folder; ``new_mail`` is set (and ``wake`` called) when mail arrives."""

    def __init__(self, name: str, config: ImapConfig, folder: str, stop: threading.Event, new_mail: threading.Event,
                 wake: Callable[[], None] | None, renew: float) -> None:
        self.name, self.config, self.folder = name, config, folder
        self.stop, self.new_mail, self.wake, self.renew = stop, new_mail, wake, renew
        self.session = ImapSession(config, stop)
        self.idling = threading.Event()  # set while an IDLE command is open (tests and probes read it)
        self.thread = threading.Thread(target=self._run, name=f"imap-idle-{name}-{folder}", daemon=True)

    def start(self) -> None:
        """Start the thread (it logs in by itself)."""
        self.thread.start()

    def join(self, timeout: float) -> bool:
        """Wait for the thread after ``stop`` was set; True when it ended."""
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def _signal(self) -> None:
        self.new_mail.set()
        if self.wake is not None:
            try:
                self.wake()
            except Exception as exc:  # the daemon's loop is gone (shutting down): nothing to wake
                log.debug("%s: wake-up not delivered: %s", self.name, exc)

    def _run(self) -> None:
        delay, failing = 1.0, False
        try:
            while not self.stop.is_set():
                try:
                    if not self.session.connected:
                        self.session.connect()
                        if self.session.select(self.folder, readonly=True) is None:
                            log.warning("%s: folder %s does not exist; not watching it", self.name, self.folder)
                            return
                        if failing:
                            log.info("%s: IDLE on %s works again", self.name, self.folder)
                            self._signal()  # mail may have come while the connection was down
                        failing, delay = False, 1.0
                    self._idle_once()
                except AuthError as exc:
                    log.warning("%s: IDLE login refused (%s); %s is polled on its interval", self.name, exc,
                                self.folder)
                    return
                except (ConnectionLost, *DROPPED) as exc:
                    self.session.drop()
                    self.idling.clear()
                    (log.debug if failing else log.warning)(
                        "%s: IDLE connection for %s lost (%s); reconnecting", self.name, self.folder, exc)
                    failing = True
                    self._signal()
                    self.stop.wait(delay)
                    delay = min(delay * 2, MAX_BACKOFF)
        finally:
            self.idling.clear()
            self.session.close()  # DONE was sent by _idle_once; LOGOUT here

    def _idle_once(self) -> None:
        """One IDLE command, ended after ``renew`` seconds, at ``stop``, or never early for mail (it keeps waiting)."""
        client = self.session.client
        if client is None:
            raise ConnectionLost("not connected")
        client.idle()
        self.idling.set()
        done = False
        try:
            if _buffered(client):
                # mail that came while IDLE was being re-issued is announced right after "+ idling", in the
                # same read: it waits in imaplib's buffer, where idle_check's poll of the socket cannot see it
                self._signal()
            until = time.monotonic() + self.renew
            while not self.stop.is_set() and time.monotonic() < until:
                if _announces_mail(client.idle_check(IDLE_SLICE)):
                    self._signal()
            done = True
        finally:
            self.idling.clear()
            if self.session.client is client:
                _, responses = client.idle_done()
                if done and _announces_mail(responses):  # read with DONE: announced since the last check
                    self._signal()


def _announces_mail(responses: list) -> bool:
    return any(len(r) >= 2 and r[1] in (b"EXISTS", b"RECENT") for r in responses)


def _buffered(client: object) -> bool:
    """True when imaplib has already read bytes the caller has not consumed (its reader's buffer)."""
    imap = getattr(client, "_imap", None)
    reader, sock = getattr(imap, "file", None), getattr(imap, "sock", None)
    if reader is None or sock is None or not hasattr(reader, "peek"):
        return False
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return bool(reader.peek(1))
    except OSError:
        return False
    finally:
        sock.settimeout(timeout)


class IdleWatchers:
    """The watchers of one connector (one per folder) and the event they share."""

    def __init__(self, name: str, config: ImapConfig) -> None:
        self.name, self.config = name, config
        self.stop = threading.Event()
        self.new_mail = threading.Event()
        self.watchers: list[IdleWatcher] = []
        self.wakes = False  # True when someone is woken (the daemon): a poll then never waits itself

    @property
    def active(self) -> bool:
        """True while watchers run."""
        return any(w.thread.is_alive() for w in self.watchers)

    def start(self, folders: list[str], wake: Callable[[], None] | None) -> None:
        """One watcher per folder, IDLE re-issued every ``idle_timeout`` seconds."""
        self.wakes = wake is not None
        for folder in folders:
            watcher = IdleWatcher(self.name, self.config, folder, self.stop, self.new_mail, wake,
                                  self.config.idle_timeout)
            self.watchers.append(watcher)
            watcher.start()

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds for new mail (or ``stop``); True when mail was announced."""
        until = time.monotonic() + timeout
        while not self.stop.is_set():
            left = until - time.monotonic()
            if left <= 0:
                return False
            if self.new_mail.wait(min(IDLE_SLICE, left)):
                return True
        return False

    def close(self, timeout: float = 10.0) -> None:
        """Stop every watcher (DONE, LOGOUT) and wait for the threads; blocking."""
        self.stop.set()
        until = time.monotonic() + timeout
        for watcher in self.watchers:
            if not watcher.join(max(0.0, until - time.monotonic())):
                watcher.session.drop()  # a server that does not answer DONE: cut the connection
                watcher.join(1.0)
        self.watchers = []
