"""The SQLite writer waits for a write lock held elsewhere instead of failing, and begins IMMEDIATE."""

from __future__ import annotations

import sqlite3
import threading

from omnichannel.store import Store


async def test_writer_waits_for_another_connections_write_lock(tmp_path):
    store = Store(f"sqlite+aiosqlite:///{tmp_path}/s.db")
    await store.open(migrate=True)
    other = sqlite3.connect(tmp_path / "s.db", isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO counters (name, value) VALUES ('held', 41)")
        threading.Timer(0.3, lambda: other.execute("COMMIT")).start()

        def bump(conn):
            # runs only once the other transaction committed: it sees its row
            return conn.exec_driver_sql("UPDATE counters SET value = value + 1 WHERE name = 'held' "
                                        "RETURNING value").scalar_one()

        assert await store.run_write(bump) == 42
    finally:
        other.close()
        await store.close()


async def test_two_stores_on_one_file_take_turns(tmp_path):
    """Two processes' stores (here two Store objects) allocate from one counter without a gap or a clash."""
    import asyncio

    url = f"sqlite+aiosqlite:///{tmp_path}/s.db"
    a, b = Store(url), Store(url)
    await a.open(migrate=True)
    await b.open(migrate=False)
    try:
        firsts = await asyncio.gather(*(s.allocate("n", 5) for _ in range(40) for s in (a, b)))
        assert sorted(firsts) == list(range(1, 5 * 80, 5))
    finally:
        await a.close()
        await b.close()
