"""Group commit: concurrent submissions to one connector share one transaction.

A web intake under load sends many one-envelope batches at once; committing each alone would
bind throughput to the disk's fsync rate. One writer task per connector takes everything that
queued while the previous commit ran, stores it in a single ``ingest_batch`` call, and hands each
caller its own results. A caller still gets its answer only after the commit that holds its data.

On PostgreSQL up to ``PARALLEL`` such transactions of one connector run at once (ids come from blocks
the store reserved, so they do not queue on a counter row): while one waits for its commit, the next
is already being written. SQLite has one writer, so there it stays one at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from omnichannel.ingest import ingest_batch
from omnichannel.types import Batch, Envelope, EnvelopeResult, IngestResult

if TYPE_CHECKING:  # pragma: no cover
    from omnichannel.store import Store

log = logging.getLogger(__name__)
PARALLEL = 4  # PostgreSQL: ingest transactions of one connector in flight at once


class GroupCommitter:
    """Batches concurrent ``submit`` calls of one connector into shared transactions."""

    def __init__(self, store: Store, connector: str, channel: str, max_envelopes: int = 500,
                 on_stored: Callable[[str, IngestResult], None] | None = None) -> None:
        self.store, self.connector, self.channel = store, connector, channel
        self.max_envelopes = max_envelopes
        self.on_stored = on_stored
        self._queue: list[tuple[Batch, asyncio.Future[IngestResult]]] = []
        self._writers: set[asyncio.Task[None]] = set()
        self.parallel = PARALLEL if getattr(store, "dialect", "sqlite") == "postgresql" else 1

    async def submit(self, batch: Batch) -> IngestResult:
        """Store ``batch`` (with others that arrive meanwhile); return its own results after the commit."""
        future: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        self._queue.append((batch, future))
        # a writer whose coroutine has returned (queue empty) is gone even before its done-callback has run:
        # counted, it kept a submission made in between waiting for a writer that never looks again
        self._writers.difference_update([w for w in self._writers if w.done()])
        if len(self._writers) < self.parallel:
            writer = asyncio.create_task(self._drain(), name=f"commit-{self.connector}")
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            taken: list[tuple[Batch, asyncio.Future[IngestResult]]] = []
            count = 0
            while self._queue and (not taken or count + len(self._queue[0][0].envelopes) <= self.max_envelopes):
                item = self._queue.pop(0)
                taken.append(item)
                count += len(item[0].envelopes)
            await self._commit(taken)

    async def _commit(self, taken: list[tuple[Batch, asyncio.Future[IngestResult]]]) -> None:
        """Store ``taken`` together; when the store refuses a row, halve until only its own submission
        is left (the others commit without it), and that one stores the refused envelope in quarantine."""
        combined = Batch(envelopes=[e for b, _ in taken for e in b.envelopes])
        for b, _ in taken:
            if b.checkpoint is not None:
                combined.checkpoint = b.checkpoint
        try:
            if len(taken) == 1 and len(combined.envelopes) > 0:
                try:
                    result = await ingest_batch(self.store, self.connector, self.channel, combined)
                except Exception as exc:
                    if not refused(exc):
                        raise
                    result = await self._isolate(combined, exc)
            else:
                result = await ingest_batch(self.store, self.connector, self.channel, combined)
        except Exception as exc:
            if len(taken) > 1 and refused(exc):
                half = len(taken) // 2
                await self._commit(taken[:half])
                await self._commit(taken[half:])
                return
            log.warning("%s: commit of %d envelopes failed: %s", self.connector, len(combined.envelopes),
                        short_reason(exc))
            for _, fut in taken:
                if not fut.done():
                    fut.set_exception(exc)
            return
        if self.on_stored is not None:
            self.on_stored(self.connector, result)
        offset = 0
        for b, fut in taken:
            part = IngestResult(result.items[offset:offset + len(b.envelopes)])
            offset += len(b.envelopes)
            if not fut.done():
                fut.set_result(part)

    async def _isolate(self, batch: Batch, first_error: BaseException) -> IngestResult:
        """Store ``batch`` in parts, each refused envelope in quarantine (raw kept), then the checkpoint."""
        envelopes = batch.envelopes
        results: dict[int, EnvelopeResult] = {}
        poison: dict[int, BaseException] = {}

        async def attempt(indexes: list[int]) -> None:
            try:
                part = await ingest_batch(self.store, self.connector, self.channel,
                                          Batch([envelopes[i] for i in indexes]))
            except Exception as exc:
                if not refused(exc):
                    raise
                if len(indexes) == 1:
                    poison[indexes[0]] = exc
                    return
                half = len(indexes) // 2
                await attempt(indexes[:half])
                await attempt(indexes[half:])
                return
            results.update(zip(indexes, part.items, strict=True))

        everything = list(range(len(envelopes)))
        if len(everything) == 1:  # the whole batch was refused already: its one envelope is the poison
            poison[0] = first_error
        else:
            half = len(everything) // 2
            await attempt(everything[:half])
            await attempt(everything[half:])
        kept = []
        for i, exc in sorted(poison.items()):
            env = envelopes[i]
            reason = f"the store refused this message: {short_reason(exc)}"
            log.warning("%s %s: %s; kept in quarantine", self.connector, env.external_id, reason)
            kept.append(Envelope(external_id=env.external_id, raw=env.raw, received_at=env.received_at,
                                 error=reason))
        last = await ingest_batch(self.store, self.connector, self.channel, Batch(kept, checkpoint=batch.checkpoint))
        results.update(zip(sorted(poison), last.items, strict=True))
        return IngestResult([results[i] for i in everything])


def refused(exc: BaseException) -> bool:
    """True when the store refused the data (a row, a value), not when it was unreachable or busy."""
    from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError

    if isinstance(exc, (IntegrityError, DataError)):
        return True
    if isinstance(exc, OperationalError):
        return False
    if isinstance(exc, StatementError):  # an error raised while binding a parameter
        exc = exc.orig if exc.orig is not None else exc
    return isinstance(exc, (UnicodeError, ValueError, TypeError, OverflowError))


def short_reason(exc: BaseException) -> str:
    """``Type: first line`` of the driver's message: no SQL, no parameters (they hold personal data)."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {lines[0][:200]}" if lines else type(orig).__name__
