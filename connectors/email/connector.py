"""Email connector (kind ``imap``): reads folders by UID with a checkpoint, waits with IDLE, answers by SMTP.

Checkpoint: ``{"folders": {name: {"uidvalidity", "last_uid"[, "unacked", "resync_until"]}}}``. The
position in memory advances only in ``ack`` (after the core committed the batch), so a batch that was
never stored is fetched again. A stored batch carries ``unacked: [first, last]``: after a crash
between commit and ack, ``start`` reads those UIDs again, the unique key absorbs them and they get
their \\Seen/MOVE at last (the next batch's checkpoint no longer has the mark). A changed UIDVALIDITY voids the UIDs: the folder is read again from the
start and, until the old UIDNEXT, messages whose Message-ID is already stored are acknowledged
without a second envelope. imapclient is blocking: every IMAP call runs on one dedicated thread
(``_call``), which serialises use of the single connection. Parsing runs off that thread (in a
worker thread); with ``parse_workers`` the batch planned on that connection (UIDs, checkpoint) is
fetched read-only and parsed by worker processes (``imap_workers``; if they fail it is read here as
without them). With ``prefetch`` the next batch is fetched and parsed while the core stores the last
one; it is handed out only if the position it started from is the position acknowledged meanwhile,
else it is dropped and read again from the checkpoint (nothing is flagged on the server before an ack).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import imaplib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import select

from connectors.email.batch import AckToken, Fetched, Plan, assemble, normalise, with_folder
from connectors.email.config import ImapConfig
from connectors.email.idle import IdleWatchers
from connectors.email.parse import ParseOptions, parse_message
from connectors.email.pool import MailParser, RawMail
from connectors.email.prefetch import ReadAhead
from connectors.email.reply import send_reply
from connectors.email.session import DROPPED, ConnectionLost, ImapSession
from connectors.email.workers import FetchWorkers, WorkersFailed
from omnichannel.errors import RetryableError
from omnichannel.protocols import PluginContext
from omnichannel.types import Batch, Envelope, IngestResult, OutboxItem, Receipt

log = logging.getLogger(__name__)


class ImapConnector:
    """Pull connector and replier for one mailbox."""

    kind: ClassVar[str] = "imap"

    def __init__(self, name: str, config: ImapConfig) -> None:
        self.name = name
        self.config = config
        self.ctx: PluginContext | None = None
        self._position: dict[str, Any] = {"folders": {}}
        self._stop = threading.Event()
        self._session = ImapSession(config, self._stop)
        self._executor: ThreadPoolExecutor | None = None
        self._pending: list[tuple[str, int, list[int], list[int]]] = []
        self._next_folder = 0
        self._options = ParseOptions()
        self._parser = MailParser(0, self._options, name)
        self._workers = FetchWorkers(0, config, self._options, name)
        self._ahead: ReadAhead[tuple[Batch, bool]] = ReadAhead(name)
        self._idle = IdleWatchers(name, config)

    # -- the one seam to the blocking library ----------------------------------------------------
    async def _call(self, fn: Any, *args: Any) -> Any:
        if self._executor is None:
            raise RetryableError(f"{self.name} is not started")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self, ctx: PluginContext, checkpoint: dict[str, Any] | None) -> None:
        """Connect and log in; resume from ``checkpoint``."""
        self.ctx = ctx
        self._position = normalise(checkpoint, rewind=True)
        cfg = self.config
        self._options = parse_options(cfg, ctx.attachments_dir)
        self._stop = threading.Event()
        self._session = ImapSession(cfg, self._stop)
        self._ahead.drop()
        self._parser = MailParser(cfg.parse_workers, self._options, self.name)  # for a batch the workers failed
        self._workers = FetchWorkers(cfg.parse_workers, cfg, self._options, self.name)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"imap-{self.name}")
        warming = asyncio.ensure_future(self._workers.warm_up())  # processes start while this logs in
        try:
            await self._call(self._connect_with_backoff)
        except BaseException:
            warming.cancel()
            self._workers.close()
            raise
        await warming
        self._idle = IdleWatchers(self.name, cfg)
        if self._can_idle():  # IDLE open all the time on connections of its own: new mail wakes a poll at once
            self._idle.start(cfg.folders, ctx.extra.get("wake"))
        log.info("%s connected to %s as %s (%s)", self.name, cfg.host, cfg.username,
                 "IDLE" if self._can_idle() else "polling")

    def interrupt(self) -> None:
        """Shutdown has begun: end IDLE and any wait now (thread-safe; ``stop`` still closes everything)."""
        self._stop.set()
        self._idle.stop.set()

    async def stop(self) -> None:
        """Leave IDLE at once, log out, release the thread. Safe to call twice."""
        self.interrupt()
        idle, self._idle = self._idle, IdleWatchers(self.name, self.config)
        if idle.watchers:
            await asyncio.to_thread(idle.close, self.config.timeout)
        self._ahead.drop()
        self._workers.close()
        self._parser.close()
        executor, self._executor = self._executor, None
        if executor is None:
            return
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(executor, self._session.close), self.config.timeout + 5)
        except (TimeoutError, RuntimeError):
            self._session.drop()
        executor.shutdown(wait=False)

    async def probe(self) -> str:
        """Log in, look at the folders, log out."""
        probe = ImapSession(self.config, threading.Event())

        def run() -> str:
            try:
                probe.connect()
            except ConnectionLost as exc:
                raise RetryableError(str(exc)) from exc
            try:
                counts = []
                for folder in self.config.folders:
                    info = probe.select(folder)
                    counts.append(f"{folder}: {'missing' if info is None else info.exists}")
                idle = "IDLE" if b"IDLE" in probe.capabilities else "no IDLE"
                return f"imap {self.config.username}@{self.config.host} ({idle}; {', '.join(counts)})"
            finally:
                probe.close()

        return await asyncio.to_thread(run)

    # -- polling ---------------------------------------------------------------------------------
    async def poll(self) -> Batch:
        """Up to ``batch_size`` new messages of one folder; else wait in IDLE (bounded) or return empty."""
        ready = await self._ahead.take(self._position)
        if ready is None:
            ready = await self._parse(await self._call(self._poll_blocking, copy.deepcopy(self._position)))
        batch, resync = ready
        if resync and batch.envelopes:
            await self._absorb_known(batch)
        if self.config.prefetch and batch.ack_token is not None and batch.checkpoint is not None:
            self._start_prefetch(normalise(batch.checkpoint))
        return batch

    async def _parse(self, fetched: Fetched) -> tuple[Batch, bool]:
        if fetched.plan is not None:
            fetched = await self._fetch_planned(fetched.plan)
        parsed = iter(await self._parser.parse([m for m in fetched.items if isinstance(m, RawMail)]))
        fetched.batch.envelopes = [next(parsed) if isinstance(m, RawMail) else m for m in fetched.items]
        return fetched.batch, fetched.resync

    async def _fetch_planned(self, plan: Plan) -> Fetched:
        """The workers fetch and parse the planned batch; if they cannot, it is read here as without them."""
        try:
            fetched = await self._workers.fetch(plan.folder, plan.uidvalidity, plan.uids)
            return assemble(plan, self.config.max_message_bytes, fetched)
        except WorkersFailed:
            pass  # logged by the workers
        return await self._call(self._guarded, self._fetch_here, plan)

    def _fetch_here(self, plan: Plan) -> Fetched:
        info = self._session.select(plan.folder)
        if info is None or info.uidvalidity != plan.uidvalidity:
            return Fetched(Batch(next_poll_in=0), [])  # the UIDs are void now: the next poll plans again
        fetched = self._session.fetch(plan.uids, self.config.max_message_bytes, self.config.part_limits())
        return assemble(plan, self.config.max_message_bytes, [(item, None) for item in fetched])

    def _start_prefetch(self, basis: dict[str, Any]) -> None:
        """Fetch and parse what follows ``basis`` (the position once the batch just handed out is acked)."""
        async def work() -> tuple[Batch, bool] | None:
            fetched = await self._call(self._prefetch_blocking, copy.deepcopy(basis))
            return None if fetched is None else await self._parse(fetched)

        self._ahead.start(basis, work)

    def _poll_blocking(self, position: dict[str, Any]) -> Fetched:
        self._ensure_connected()
        self._guarded(self._flush_pending)
        self._idle.new_mail.clear()  # mail announced from here on makes the next poll look again
        found = self._find(position)
        if found is not None:
            return found
        idle = self._idle
        if idle.active and not idle.wakes and not self._stop.is_set():
            # nobody to wake (a caller polling by hand): wait here, bounded below the poll timeout
            if idle.wait(max(1.0, min(self.config.idle_timeout, self.config.poll_timeout - 5))):
                found = self._find(position)
                if found is not None:
                    return found
        return Fetched(Batch(), [])

    def _prefetch_blocking(self, position: dict[str, Any]) -> Fetched | None:
        """Like ``_poll_blocking`` but never waits in IDLE (that would hold up the acknowledgement)."""
        if self._stop.is_set():
            return None
        self._ensure_connected()
        return self._find(position)

    def _find(self, position: dict[str, Any]) -> Fetched | None:
        folders = self.config.folders
        for i in range(len(folders)):
            index = (self._next_folder + i) % len(folders)
            found = self._guarded(self._collect, folders[index], position)
            if found is not None:
                self._next_folder = (index + 1) % len(folders)
                return found
        return None

    def _collect(self, folder: str, position: dict[str, Any]) -> Fetched | None:
        info = self._session.select(folder)
        if info is None:
            log.warning("%s: folder %s does not exist", self.name, folder)
            return None
        state = position["folders"].get(folder)
        changed = False
        if state is None:
            state, changed = {"uidvalidity": info.uidvalidity, "last_uid": 0}, True
        elif state["uidvalidity"] != info.uidvalidity:
            log.warning("%s: UIDVALIDITY of %s changed (%s → %s): reading it again, known Message-IDs are absorbed",
                        self.name, folder, state["uidvalidity"], info.uidvalidity)
            state = {"uidvalidity": info.uidvalidity, "last_uid": 0, "resync_until": (info.uidnext or 1 << 31) - 1}
            changed = True
        last = int(state["last_uid"])
        uids = [] if info.uidnext is not None and info.uidnext <= last + 1 else self._session.uids_after(last)
        uids = uids[: self.config.batch_size]
        if not uids:
            return Fetched(Batch(checkpoint=with_folder(position, folder, state)), []) if changed else None
        new_state = {**state, "last_uid": uids[-1], "unacked": [uids[0], uids[-1]]}
        resync = "resync_until" in new_state
        if resync and uids[-1] >= new_state["resync_until"]:
            new_state.pop("resync_until")
        plan = Plan(folder, info.uidvalidity, uids, new_state, position, resync)
        if self._workers.active:
            return Fetched(Batch(), [], resync, plan)  # fetched by the workers, off this thread
        fetched = self._session.fetch(uids, self.config.max_message_bytes, self.config.part_limits())
        return assemble(plan, self.config.max_message_bytes, [(item, None) for item in fetched])

    async def _absorb_known(self, batch: Batch) -> None:
        """After a UIDVALIDITY change: drop envelopes whose Message-ID this connector already stored."""
        store = self.ctx.extra.get("store") if self.ctx else None
        ids = {e.message_id for e in batch.envelopes if e.message_id}
        if store is None or not ids:
            return
        from omnichannel.models import EnvelopeRow

        known: set[str] = set()
        id_list = list(ids)
        async with store.session() as session:
            for start in range(0, len(id_list), 500):
                q = select(EnvelopeRow.message_id).where(EnvelopeRow.connector == self.name,
                                                         EnvelopeRow.message_id.in_(id_list[start:start + 500]))
                known.update((await session.exec(q)).scalars())
        token: AckToken = batch.ack_token
        kept = []
        for env in batch.envelopes:
            if env.message_id in known:
                token.absorbed.append(token.uids.pop(env.external_id))
            else:
                kept.append(env)
        if len(kept) != len(batch.envelopes):
            log.info("%s: %d messages already stored before the UIDVALIDITY change were absorbed",
                     self.name, len(batch.envelopes) - len(kept))
        batch.envelopes = kept

    # -- acknowledgement ---------------------------------------------------------------------------
    async def ack(self, batch: Batch, result: IngestResult) -> None:
        """After the commit: advance the position, then \\Seen or MOVE; quarantined mail to quarantine."""
        if batch.checkpoint is not None:
            self._position = normalise(batch.checkpoint)
        token: AckToken | None = batch.ack_token
        if token is None:
            return
        outcome = {item.external_id: item.outcome for item in result.items}
        done = list(token.absorbed)
        bad = []
        for external_id, uid in token.uids.items():
            (bad if outcome.get(external_id) == "quarantined" else done).append(uid)
        self._pending.append((token.folder, token.uidvalidity, done, bad))
        try:
            await self._call(self._flush_pending)
        except (ConnectionLost, *DROPPED) as exc:
            self._session.drop()
            log.warning("%s: acknowledgement postponed, connection lost: %s", self.name, exc)

    def _flush_pending(self) -> None:
        """Run postponed acknowledgements; a refused one is logged and dropped (the mail is stored already)."""
        while self._pending and self._session.connected:
            folder, validity, done, bad = self._pending[0]
            try:
                self._acknowledge(folder, validity, done, bad)
            except DROPPED:
                raise
            except imaplib.IMAP4.error as exc:
                log.error("%s: acknowledging %d messages in %s was refused: %s", self.name, len(done) + len(bad),
                          folder, exc)
            self._pending.pop(0)

    def _acknowledge(self, folder: str, validity: int, done: list[int], bad: list[int]) -> None:
        info = self._session.select(folder)
        if info is None or info.uidvalidity != validity:
            return  # the UIDs mean other messages now
        cfg = self.config
        if cfg.quarantine_folder:
            self._session.move(bad, cfg.quarantine_folder)
        else:
            done = done + bad
        if cfg.ack == "move" and cfg.processed_folder:
            self._session.move(done, cfg.processed_folder)
        else:
            self._session.mark_seen(done)

    # -- connection handling ---------------------------------------------------------------------
    def _can_idle(self) -> bool:
        return self.config.idle and b"IDLE" in self._session.capabilities

    def _connect_with_backoff(self) -> None:
        delay, attempts = 0.5, self.config.reconnect_attempts + 1
        for attempt in range(1, attempts + 1):
            try:
                self._session.connect()
                return
            except ConnectionLost as exc:
                if attempt == attempts or self._stop.wait(delay):
                    raise RetryableError(f"IMAP server unreachable: {exc}") from exc
                log.debug("%s: connect attempt %d failed: %s; retrying in %.1fs", self.name, attempt, exc, delay)
                delay = min(delay * 2, 10.0)

    def _ensure_connected(self) -> None:
        if not self._session.connected:
            self._connect_with_backoff()

    def _guarded(self, op: Any, *args: Any) -> Any:
        """Run ``op``; if the connection drops, reconnect (with backoff) and run it once more."""
        try:
            return op(*args)
        except (ConnectionLost, *DROPPED) as exc:
            log.warning("%s: IMAP connection lost (%s); reconnecting", self.name, exc)
            self._session.drop()
        self._connect_with_backoff()
        try:
            return op(*args)
        except (ConnectionLost, *DROPPED) as exc:
            self._session.drop()
            raise RetryableError(f"IMAP connection keeps dropping: {exc}") from exc

    # -- replies ---------------------------------------------------------------------------------
    async def reply(self, item: OutboxItem, idempotency_key: str) -> Receipt:
        """Answer the citizen by SMTP in the thread of their mail."""
        templates = self.ctx.templates if self.ctx else None
        return await send_reply(self.config.smtp, item, idempotency_key, templates)

    @classmethod
    def reparse(cls, raw: bytes, external_id: str, config: ImapConfig | None = None,
                attachments_dir: Path | None = None) -> Envelope:
        """Parse kept bytes again (``omnichannel quarantine retry``) with the live path's options when the
        caller passes the connector's config (else: no own addresses, attachments as metadata only)."""
        options = parse_options(config, attachments_dir) if config is not None else ParseOptions()
        return parse_message(raw, external_id, options)


def parse_options(config: ImapConfig, attachments_dir: Path | None) -> ParseOptions:
    """What the parser needs from the connector's config (the same for live mail and a retry)."""
    return ParseOptions(own_addresses=frozenset(config.own_addresses), attachments_dir=attachments_dir,
                        max_attachment_bytes=config.max_attachment_bytes,
                        attachment_types=tuple(config.attachment_types))
