"""The durable store: an async SQLAlchemy engine (SQLite embedded, PostgreSQL for scale-out)."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from omnichannel import models  # noqa: F401  (registers every table on SQLModel.metadata)
from omnichannel.errors import StoreError
from omnichannel.models import ConnectorState, Counter
from omnichannel.types import utcnow

T = TypeVar("T")

log = logging.getLogger(__name__)


def _writer_connect(dbapi_conn: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_conn, record)
    dbapi_conn.isolation_level = None  # the driver's implicit BEGIN off: _writer_begin says how to begin
    # _writer_begin waits for the write lock itself: SQLite's busy handler sleeps in steps of up to
    # 100 ms, long after another connection (the router's, another process's) has committed
    dbapi_conn.execute("PRAGMA busy_timeout=0")


WRITE_LOCK_TIMEOUT = 10.0


def _writer_begin(conn: Connection) -> None:
    # take the write lock at BEGIN: a deferred transaction that read first could not write after
    # another process's commit moved its snapshot (SQLITE_BUSY_SNAPSHOT, which no busy timeout retries)
    deadline = time.monotonic() + WRITE_LOCK_TIMEOUT
    pause = 0.0002
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.002)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=10000"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


RESERVE_BLOCK = 200  # ids a PostgreSQL process reserves from a counter at a time
# counters in the order an ingest transaction takes them (reporter, envelope, complaint)
_BUMP_ORDER = {"reporter": 0, "envelope": 1, "complaint": 2}


class Store:
    """Owns the engine; hands out sessions; knows the dialect's upsert."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs.update(pool_size=4, max_overflow=4)
        else:
            # no pre-ping: it is a round trip before every transaction (the ingest path's most frequent
            # one). A connection the server dropped fails its first statement with
            # ``connection_invalidated``; SQLAlchemy then replaces every pooled connection and the
            # ingest transaction is retried (see ``ingest._retryable``); other callers retry on their loop.
            kwargs.update(pool_size=10, max_overflow=10)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self._counters: set[str] = set()
        # PostgreSQL: ids this process reserved from a counter in a short transaction of their own
        # (name → [next, end)), so an ingest transaction takes ids without locking the counter's row
        # and several can run at once (see ``reserve``)
        self._reserved: dict[str, list[int]] = {}
        self._reserving: asyncio.Lock | None = None
        self._sync_engine: Engine | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._lock_path: str | None = None
        self._lock_fd: int | None = None
        if self.dialect == "sqlite":
            # write transactions run whole in one writer thread (one hop each, not one per statement)
            self._sync_engine = create_engine(url.replace("sqlite+aiosqlite", "sqlite", 1), echo=echo,
                                              connect_args={"check_same_thread": False})
            event.listen(self._sync_engine, "connect", _writer_connect)
            event.listen(self._sync_engine, "begin", _writer_begin)
            # writers of several processes (http.workers) queue on a lock file instead of polling
            # SQLite's busy handler, which sleeps in steps of up to 100 ms
            self._lock_path = f"{path}.write-lock" if path and path != ":memory:" else None
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        if self.dialect == "sqlite":
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)

    async def open(self, migrate: bool = True) -> None:
        """Check the store is reachable and bring the schema up to date."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # translated at the boundary
            raise StoreError(f"store unreachable: {type(exc).__name__}: {exc}") from exc
        if migrate:
            from omnichannel.migrate import upgrade

            await upgrade(self)

    async def create_all(self) -> None:
        """Create every table directly (tests and benchmarks; production uses migrations)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)

    async def ping(self) -> bool:
        """True when a trivial query answers."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that is rolled back on error and closed after use (commit explicitly)."""
        session = AsyncSession(self.engine, expire_on_commit=False)
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        finally:
            await session.close()

    def insert(self, model: Any) -> Any:
        """The dialect's INSERT (with ``on_conflict_do_nothing``/``do_update``)."""
        return (sqlite.insert if self.dialect == "sqlite" else postgresql.insert)(model)

    async def run_write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(connection)`` as one write transaction (committed when it returns)."""
        if self._sync_engine is not None and self._writer is not None:
            def work() -> T:
                with self._write_lock(), self._sync_engine.begin() as conn:  # type: ignore[union-attr]
                    return fn(conn)

            return await asyncio.get_running_loop().run_in_executor(self._writer, work)
        async with self.engine.begin() as conn:
            return await conn.run_sync(fn)

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        if self._lock_path is None:
            yield
            return
        if self._lock_fd is None:
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)  # blocks without the GIL
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    async def reserve(self, needs: dict[str, int]) -> None:
        """PostgreSQL: make sure this process holds at least ``needs[name]`` reserved ids of each counter.

        A block (``RESERVE_BLOCK`` ids or more) is taken from the counter in a short transaction that
        commits at once; ``allocate_sync`` then hands them out without touching the counter row, whose
        lock would otherwise serialise every ingest transaction until its commit. Ids stay unique
        across processes (each block is the counter's); what a process does not use before it stops is
        a gap, and ids are no longer in arrival order across processes (the router orders by
        ``created_at``). SQLite has one writer: nothing to gain, so nothing changes there."""
        if self.dialect != "postgresql":
            return
        if all(self._left(name) >= count for name, count in needs.items()):
            return
        if self._reserving is None:
            self._reserving = asyncio.Lock()
        async with self._reserving:
            short = {name: count for name, count in needs.items() if self._left(name) < count}
            if not short:
                return
            for attempt in range(4):
                taken: dict[str, list[int]] = {}
                try:
                    async with self.engine.begin() as conn:
                        # the order ingest_sync bumps them in when its pool ran dry: one lock order for all
                        for name, count in sorted(short.items(), key=lambda kv: _BUMP_ORDER.get(kv[0], 9)):
                            block = max(count, RESERVE_BLOCK)
                            first = await conn.run_sync(lambda c, n=name, b=block: self._bump_sync(c, n, b))
                            taken[name] = [first, first + block]
                except DBAPIError as exc:  # deadlock with an ingest transaction bumping a counter itself
                    if attempt == 3 or not (exc.connection_invalidated or  # a dropped connection, replaced
                                            (getattr(exc.orig, "sqlstate", None) or "") in ("40P01", "40001")):
                        raise
                    continue
                # only a committed bump is ours: a rolled-back one would hand the same ids out twice
                self._reserved.update(taken)
                return

    def _left(self, name: str) -> int:
        pool = self._reserved.get(name)
        return pool[1] - pool[0] if pool else 0

    def allocate_sync(self, conn: Connection, name: str, count: int = 1) -> int:
        """``allocate`` on a synchronous connection, inside its transaction (from ids this process reserved,
        when it holds enough: see ``reserve``)."""
        pool = self._reserved.get(name)
        if pool is not None and pool[1] - pool[0] >= count:
            first = pool[0]
            pool[0] += count
            return first
        return self._bump_sync(conn, name, count)

    def _bump_sync(self, conn: Connection, name: str, count: int) -> int:
        """Advance counter ``name`` by ``count`` in ``conn``'s transaction; the first of the numbers taken."""
        if self.dialect == "sqlite" and name in self._counters:
            # the hot path (three counters per ingest batch) without building statements
            row = conn.exec_driver_sql("UPDATE counters SET value = value + ? WHERE name = ? RETURNING value",
                                       (count, name)).first()
            if row is not None:
                return int(row[0]) - count + 1
        if name not in self._counters:
            ins = self.insert(Counter).values(name=name, value=0).on_conflict_do_nothing(index_elements=["name"])
            conn.execute(ins)
        stmt = (update(Counter).where(Counter.name == name).values(value=Counter.value + count)
                .returning(Counter.value))
        last = conn.execute(stmt).scalar_one_or_none()
        if last is None:  # the row was inserted by a transaction that rolled back: insert it again
            conn.execute(self.insert(Counter).values(name=name, value=0).on_conflict_do_nothing(index_elements=["name"]))
            last = conn.execute(stmt).scalar_one()
        self._counters.add(name)
        return int(last) - count + 1

    async def allocate(self, name: str, count: int = 1, session: AsyncSession | None = None) -> int:
        """Reserve ``count`` consecutive numbers from counter ``name``; return the first.

        Inside ``session`` it joins that transaction (the row lock serialises concurrent replicas).
        """
        if session is None:
            return await self.run_write(lambda conn: self.allocate_sync(conn, name, count))
        return await session.run_sync(lambda sync: self.allocate_sync(sync.connection(), name, count))

    async def load_checkpoint(self, connector: str) -> dict[str, Any] | None:
        """The stored checkpoint of ``connector`` (None before its first batch)."""
        async with self.session() as session:
            row = await session.get(ConnectorState, connector)
            return None if row is None else row.checkpoint

    def save_checkpoint_sync(self, conn: Connection, connector: str, checkpoint: dict[str, Any]) -> None:
        """Upsert ``connector``'s checkpoint inside ``conn``'s transaction."""
        stmt = self.insert(ConnectorState).values(connector=connector, checkpoint=checkpoint, updated_at=utcnow())
        stmt = stmt.on_conflict_do_update(index_elements=["connector"],
                                          set_={"checkpoint": stmt.excluded.checkpoint,
                                                "updated_at": stmt.excluded.updated_at})
        conn.execute(stmt)

    async def save_checkpoint(self, session: AsyncSession, connector: str, checkpoint: dict[str, Any]) -> None:
        """Upsert ``connector``'s checkpoint inside ``session``'s transaction."""
        await session.run_sync(lambda sync: self.save_checkpoint_sync(sync.connection(), connector, checkpoint))

    async def close(self) -> None:
        """Dispose of the engine's connections (and the SQLite writer thread)."""
        await self.engine.dispose()
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        if self._sync_engine is not None:
            self._sync_engine.dispose()
