"""Worker processes that fetch and parse disjoint UID ranges of a batch, each on its own IMAP connection.

The connector's own connection decides what a batch is (SELECT, UIDVALIDITY, SEARCH) and acknowledges
it; a worker only reads: EXAMINE (read-only) the folder, check that UIDVALIDITY is still the one the
batch was planned with, ``UID FETCH BODY.PEEK[]`` its range (nothing is flagged) and parse it. So
fetching (imaplib and imapclient turning the response into bytes, ~60 us a mail) and parsing (~150 us)
run beside the store on another core, and the batch, its checkpoint and the acknowledgement stay where
they were. Any failure here (no connection, a changed UIDVALIDITY, a worker that died) is reported
as ``WorkersFailed`` and the connector fetches and parses the batch itself, the way it does without
workers; nothing is lost or stored twice.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from multiprocessing import util
from typing import Any

from connectors.email import procs as mail_procs
from connectors.email.config import ImapConfig
from connectors.email.parse import ParseOptions, parse_message
from connectors.email.parts import with_omitted
from connectors.email.pool import pack, unpack
from connectors.email.session import DROPPED, ConnectionLost, Fetched, ImapSession
from omnichannel.types import Envelope

log = logging.getLogger(__name__)
MIN_CHUNK = 50  # UIDs per task at least: one EXAMINE and one FETCH round trip each

# one row per fetched message: uid, size, internal date, truncated, the header (truncated) or the envelope
Row = tuple[int, int, datetime | None, bool, bytes | tuple[Any, ...]]


class WorkersFailed(Exception):
    """The workers could not deliver this batch: the connector reads it itself."""


class _Worker:
    """The state of one worker process: its settings and its IMAP connection."""

    config: ImapConfig | None = None
    options: ParseOptions | None = None
    session: ImapSession | None = None


def _init(config: ImapConfig, options: ParseOptions) -> None:
    _Worker.config, _Worker.options = config, options
    _Worker.session = ImapSession(config, threading.Event())
    util.Finalize(None, _Worker.session.close, exitpriority=10)  # log out when the pool shuts down


def connect() -> bool:
    """Log in now (the pool's warm-up), so the first batch does not wait for it."""
    session = _Worker.session
    if session is not None and not session.connected:
        session.connect()
    return True


def fetch_and_parse(folder: str, uidvalidity: int, uids: list[int]) -> list[Row]:
    """Fetch ``uids`` of ``folder`` read-only and parse them; raises when UIDVALIDITY is no longer the same."""
    session, config, options = _Worker.session, _Worker.config, _Worker.options
    assert session is not None and config is not None and options is not None
    for attempt in (1, 2):
        try:
            if not session.connected:
                session.connect()
            info = session.select(folder, readonly=True)
            if info is None or info.uidvalidity != uidvalidity:
                raise WorkersFailed(f"UIDVALIDITY of {folder} is no longer {uidvalidity}")
            fetched = session.fetch(uids, config.max_message_bytes, config.part_limits())
            break
        except (ConnectionLost, *DROPPED):
            session.drop()
            if attempt == 2:
                raise
    return [_row(item, folder, uidvalidity, options) for item in fetched]


def _row(item: Fetched, folder: str, uidvalidity: int, options: ParseOptions) -> Row:
    if item.truncated:
        return item.uid, item.size, item.internal_date, True, item.raw
    env = parse_message(item.raw, f"{folder}/{uidvalidity}/{item.uid}", options, item.internal_date)
    if item.parts is not None:
        with_omitted(env, *item.parts)
    return item.uid, item.size, item.internal_date, False, pack(env)


class FetchWorkers(mail_procs.PoolOwner):
    """``workers`` processes that fetch and parse for one connector (0: none, the connector does it)."""

    def __init__(self, workers: int, config: ImapConfig, options: ParseOptions, name: str) -> None:
        self.workers = workers
        self.config = config
        self.options = options
        self.name = name
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False
        self._failing = False  # logged once when they start failing, once when they work again

    @property
    def active(self) -> bool:
        """True when batches go to the workers."""
        return self.workers > 0 and not self._closed

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: a fork of a process with running threads (the IMAP thread, the store) is unsafe
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_init, initargs=(self.config, self.options))
        return self._pool

    async def warm_up(self) -> None:
        """Start the processes and log them in now (bounded by the IMAP timeout); a failure is not an error
        here: the first batch tries again, or the connector reads it itself."""
        if not self.active:
            return
        try:
            pool = self._ensure_pool()
            await asyncio.wait_for(mail_procs.gather(pool, [(connect, ())] * self.workers), self.config.timeout + 30)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # e.g. refused or unreachable, a process that cannot start
            log.debug("%s: fetch workers did not start cleanly: %s: %s", self.name, type(exc).__name__, exc)
            if isinstance(exc, BrokenProcessPool | RuntimeError):
                self._discard()

    async def fetch(self, folder: str, uidvalidity: int, uids: list[int]) -> list[tuple[Fetched, Envelope | None]]:
        """The messages of ``uids`` in order: (what was fetched, its envelope unless it was too large)."""
        if not self.active:
            raise WorkersFailed("the fetch workers are stopped")
        size = max(MIN_CHUNK, -(-len(uids) // (2 * self.workers)))
        chunks = [uids[i:i + size] for i in range(0, len(uids), size)]
        try:
            pool = self._ensure_pool()
            done = await mail_procs.gather(pool, [(fetch_and_parse, (folder, uidvalidity, chunk)) for chunk in chunks])
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # e.g. refused, a changed UIDVALIDITY, a dead worker
            if isinstance(exc, BrokenProcessPool | RuntimeError):
                self._discard()  # the next batch gets fresh processes
            (log.debug if self._failing else log.warning)(
                "%s: fetch workers failed on UIDs %d-%d of %s (%s: %s); the connector reads them itself",
                self.name, uids[0], uids[-1], folder, type(exc).__name__, exc)
            self._failing = True
            raise WorkersFailed(f"{type(exc).__name__}: {exc}") from exc
        if self._failing:
            log.info("%s: fetch workers work again", self.name)
            self._failing = False
        out = []
        for rows in done:
            for uid, size_, when, truncated, data in rows:
                if truncated:
                    out.append((Fetched(uid, data, size_, when, True), None))
                else:
                    env = unpack(data)
                    out.append((Fetched(uid, env.raw, size_, when), env))
        return out
