"""Parsing fetched mail off the event loop: in worker processes, or in a worker thread.

The parser is pure Python, so threads share one core with the IMAP thread and the store; worker
processes use the others (a mail costs ~10 µs to pickle there and back against ~300 µs to parse).
The raw bytes are not sent back: the parent already holds them. A worker that dies (a crash in a
native library, the OOM killer) breaks the pool: the batch is then parsed again one mail per task in
fresh pools, and the mail that kills its worker again is quarantined instead of taking the daemon down.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from connectors.email import procs as mail_procs
from connectors.email.parse import ParseOptions, parse_message
from connectors.email.parts import Omitted, with_omitted
from omnichannel.types import Attachment, Envelope, Sender

log = logging.getLogger(__name__)
CHUNK = 50  # mails per task: small enough to spread over the workers, large enough to amortise a round trip


@dataclass(slots=True)
class RawMail:
    """One fetched message waiting to be parsed."""

    raw: bytes
    external_id: str
    received_at: datetime | None
    parts: tuple[int, list[Omitted]] | None = None  # read in parts: (the mail's size, what was left)


_FIELDS = tuple(f.name for f in fields(Envelope))
_SENDER = _FIELDS.index("sender")
_ATTACHMENTS = _FIELDS.index("attachments")
_SENDER_FIELDS = tuple(f.name for f in fields(Sender))
_ATTACHMENT_FIELDS = tuple(f.name for f in fields(Attachment))


def pack(env: Envelope) -> tuple[Any, ...]:
    """An envelope as plain tuples, to send between processes: a slotted dataclass unpickles through a
    Python ``__setstate__`` per object (~28 us an envelope); tuples and ``Envelope(*values)`` cost a few."""
    values = [getattr(env, name) for name in _FIELDS]
    sender = values[_SENDER]
    if sender is not None:
        values[_SENDER] = tuple(getattr(sender, name) for name in _SENDER_FIELDS)
    values[_ATTACHMENTS] = [tuple(getattr(a, name) for name in _ATTACHMENT_FIELDS) for a in values[_ATTACHMENTS]]
    return tuple(values)


def unpack(values: tuple[Any, ...]) -> Envelope:
    """``pack`` undone."""
    values = list(values)
    if values[_SENDER] is not None:
        values[_SENDER] = Sender(*values[_SENDER])
    values[_ATTACHMENTS] = [Attachment(*a) for a in values[_ATTACHMENTS]]
    return Envelope(*values)


def parse_chunk(mails: list[RawMail], options: ParseOptions, keep_raw: bool = True) -> list[Envelope]:
    """Parse in order (``parse_message`` never raises); ``keep_raw=False`` leaves ``raw`` empty to send back."""
    out = []
    for mail in mails:
        env = parse_message(mail.raw, mail.external_id, options, mail.received_at)
        if mail.parts is not None:
            with_omitted(env, *mail.parts)
        if not keep_raw and env.raw is mail.raw:
            env.raw = b""
        out.append(env)
    return out


def parse_packed(mails: list[RawMail], options: ParseOptions) -> list[tuple[Any, ...]]:
    """``parse_chunk`` in a worker process: packed envelopes without the raw bytes (the parent has them)."""
    return [pack(env) for env in parse_chunk(mails, options, keep_raw=False)]


def _warm_up() -> None:
    """Nothing: importing this module in the worker (to find the function) loads the parser."""


class MailParser(mail_procs.PoolOwner):
    """Turns fetched mail into envelopes with ``workers`` processes (0: one thread)."""

    def __init__(self, workers: int, options: ParseOptions, name: str = "mail") -> None:
        self.workers = workers
        self.options = options
        self.name = name
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._closed:
            raise RuntimeError("the mail parser is closed")
        if self._pool is None:
            # spawn: a fork of a process with running threads (the IMAP thread, the store) is unsafe
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    def warm_up(self) -> None:
        """Start the worker processes now so the first batch does not wait for them."""
        if self.workers > 0:
            try:
                self._ensure_pool().submit(_warm_up)
            except (BrokenProcessPool, RuntimeError) as exc:
                log.warning("%s: parser processes could not start: %s", self.name, exc)
                self._discard()

    async def parse(self, mails: list[RawMail]) -> list[Envelope]:
        """Envelopes in the order of ``mails``."""
        if not mails:
            return []
        if self.workers <= 0 or self._closed:
            return await asyncio.to_thread(parse_chunk, mails, self.options)
        chunks = [mails[i:i + CHUNK] for i in range(0, len(mails), CHUNK)]
        try:
            pool = self._ensure_pool()
            done = await mail_procs.gather(pool, [(parse_packed, (chunk, self.options)) for chunk in chunks])
        except BrokenProcessPool as exc:
            log.warning("%s: a parser process died (%s); parsing this batch one mail at a time", self.name, exc)
            self._discard()
            return await self._isolate(mails)
        except Exception as exc:  # e.g. shut down meanwhile, or a result that would not pickle: parse here
            log.warning("%s: parser processes failed (%s: %s); parsing this batch in a thread", self.name,
                        type(exc).__name__, exc)
            return await asyncio.to_thread(parse_chunk, mails, self.options)
        envelopes = [unpack(values) for part in done for values in part]
        for env, mail in zip(envelopes, mails, strict=True):
            if not env.raw:
                env.raw = mail.raw
        return envelopes

    async def _isolate(self, mails: list[RawMail]) -> list[Envelope]:
        try:
            await mail_procs.gather(self._ensure_pool(), [(_warm_up, ())])
        except Exception as exc:  # the processes cannot run at all here: do without them from now on
            log.error("%s: parser processes do not work (%s: %s); parsing in a thread from now on", self.name,
                      type(exc).__name__, exc)
            self._discard()
            self.workers = 0
            return await asyncio.to_thread(parse_chunk, mails, self.options)
        out = []
        for mail in mails:
            try:
                [[values]] = await mail_procs.gather(self._ensure_pool(), [(parse_packed, ([mail], self.options))])
                env = unpack(values)
                env.raw = env.raw or mail.raw
            except BrokenProcessPool as exc:
                log.error("%s: the parser process died on %s; quarantined", self.name, mail.external_id)
                self._discard()
                env = Envelope(external_id=mail.external_id, raw=mail.raw,
                               error=f"the parser process died on this message ({type(exc).__name__})")
                if mail.received_at:
                    env.received_at = mail.received_at
            except Exception:  # not this mail's fault (e.g. closed meanwhile): parse it here
                [env] = await asyncio.to_thread(parse_chunk, [mail], self.options)
            out.append(env)
        return out
