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
from omnichannel.types import Batch, IngestResult

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
            combined = Batch(envelopes=[e for b, _ in taken for e in b.envelopes])
            for b, _ in taken:
                if b.checkpoint is not None:
                    combined.checkpoint = b.checkpoint
            try:
                result = await ingest_batch(self.store, self.connector, self.channel, combined)
            except Exception as exc:
                log.warning("%s: commit of %d envelopes failed: %s", self.connector, count, exc)
                for _, fut in taken:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            if self.on_stored is not None:
                self.on_stored(self.connector, result)
            offset = 0
            for b, fut in taken:
                part = IngestResult(result.items[offset:offset + len(b.envelopes)])
                offset += len(b.envelopes)
                if not fut.done():
                    fut.set_result(part)
