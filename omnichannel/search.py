"""The complaints' full-text index, kept up after the commits that store complaints (not inside them).

Storing a complaint only queues its id in ``complaints_search_pending`` (a trigger; migration
0006). ``index_pending`` moves up to a batch of queued complaints into the dialect's index in one
write transaction of its own: SQLite's FTS5 table ``complaints_search``, PostgreSQL's table
``complaints_search`` (``tsvector`` with a GIN index). ``SearchIndexer`` does that in the
background of the daemon, looking at the queue every ``interval`` seconds, so a search finds a
new complaint about a second after it was stored; ``flush`` empties the queue now (tests, and
anything that must search what it just wrote). Several replicas may index at once on PostgreSQL:
each takes queued ids with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import Connection, text

log = logging.getLogger(__name__)

BATCH = 2000  # complaints indexed per transaction
INTERVAL = 0.5  # seconds between looks at an empty queue


def index_pending_sync(conn: Connection, limit: int = BATCH) -> int:
    """Index up to ``limit`` queued complaints inside ``conn``'s transaction; returns how many left the queue."""
    if conn.dialect.name == "sqlite":
        # one writer at a time: the queue cannot change between these statements
        oldest = "SELECT complaint_id FROM complaints_search_pending ORDER BY complaint_id LIMIT ?"
        conn.exec_driver_sql("INSERT INTO complaints_search(rowid, subject, text) SELECT c.id, c.subject, c.text "
                             f"FROM complaints c WHERE c.id IN ({oldest})", (limit,))
        return conn.exec_driver_sql(f"DELETE FROM complaints_search_pending WHERE complaint_id IN ({oldest})",
                                    (limit,)).rowcount
    taken = conn.execute(text(
        "DELETE FROM complaints_search_pending WHERE complaint_id IN (SELECT complaint_id FROM "
        "complaints_search_pending ORDER BY complaint_id LIMIT :n FOR UPDATE SKIP LOCKED) RETURNING complaint_id"),
        {"n": limit}).scalars().all()
    if taken:
        conn.execute(text(
            "INSERT INTO complaints_search (complaint_id, doc) SELECT id, "
            "to_tsvector('simple', coalesce(subject, '') || ' ' || text) FROM complaints WHERE id = ANY(:ids) "
            "ON CONFLICT (complaint_id) DO UPDATE SET doc = excluded.doc"), {"ids": list(taken)})
    return len(taken)


async def index_pending(store: Any, limit: int = BATCH) -> int:
    """One batch of ``index_pending_sync`` in a write transaction of its own."""
    return await store.run_write(lambda conn: index_pending_sync(conn, limit))


async def pending(store: Any) -> int:
    """How many complaints wait to be indexed."""
    async with store.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM complaints_search_pending"))).scalar_one())


async def flush(store: Any) -> int:
    """Index everything queued now (the deterministic hook for tests); returns how many were indexed."""
    total = 0
    while (done := await index_pending(store)) > 0:
        total += done
    return total


class SearchIndexer:
    """Indexes the queue in the background until ``stop`` is set; ``wake`` makes it look at once."""

    def __init__(self, store: Any, interval: float = INTERVAL, batch: int = BATCH) -> None:
        self.store = store
        self.interval = interval
        self.batch = batch
        self.indexed = 0
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        """Complaints were stored: index them without waiting for the interval."""
        self._wakeup.set()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Index queued complaints in batches; a failure is logged and tried again after a pause."""
        stopping = asyncio.ensure_future(stop.wait())
        failing = False
        try:
            while not stop.is_set():
                woken = asyncio.ensure_future(self._wakeup.wait())
                await asyncio.wait({stopping, woken}, timeout=self.interval, return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
                self._wakeup.clear()
                if stop.is_set():
                    break
                try:
                    while not stop.is_set() and (done := await index_pending(self.store, self.batch)) > 0:
                        self.indexed += done
                        if done < self.batch:
                            break
                    if failing:
                        log.info("search index: indexing again")
                    failing = False
                except Exception as exc:  # the store is down or busy: the queue waits, nothing is lost
                    if not failing:
                        log.warning("search index: %s: %s; retrying", type(exc).__name__, exc)
                    failing = True
                    await asyncio.wait({stopping}, timeout=min(30.0, self.interval * 10))
        finally:
            stopping.cancel()
