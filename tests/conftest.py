"""Shared fixtures: a fresh store on SQLite (always) and on the PostgreSQL service (when present)."""

from __future__ import annotations

import asyncio
import faulthandler
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from omnichannel.store import Store

REPO = Path(__file__).resolve().parents[1]
SHARED_TESTDATA = REPO.parent / "shared" / "testdata"
PG_HOST = os.environ.get("OMNI_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("OMNI_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("OMNI_TEST_PG_USER", "postgres")


EXIT_WATCHDOG = float(os.environ.get("OMNICHANNEL_TEST_EXIT_WATCHDOG", "120"))  # seconds to exit after the last test


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """If the process is still alive long after the run (a thread that keeps exit waiting), print every
    thread's stack and exit 1: a hang after the tests must fail with what explains it, not eat CI's time."""
    faulthandler.dump_traceback_later(EXIT_WATCHDOG, exit=True, file=sys.__stderr__)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest_asyncio.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated SQLite store in a temp directory."""
    s = Store(f"sqlite+aiosqlite:///{tmp_path}/store.db")
    await s.open(migrate=True)
    yield s
    await s.close()


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="test", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_available() -> bool:
    """True when the PostgreSQL service answers on its port."""
    return port_open(PG_HOST, PG_PORT)


async def create_pg_database() -> str:
    """Create a fresh PostgreSQL database (skips the test when the service is absent); returns its URL."""
    if not pg_available():
        pytest.skip(f"PostgreSQL is not running on {PG_HOST}:{PG_PORT}")
    name = f"omni_test_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


async def drop_pg_database(url: str) -> None:
    """Drop a database made by ``create_pg_database``."""
    name = url.rsplit("/", 1)[1]
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest_asyncio.fixture
async def pg_url() -> AsyncIterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped afterwards."""
    url = await create_pg_database()
    try:
        yield url
    finally:
        await asyncio.sleep(0)
        await drop_pg_database(url)


@pytest_asyncio.fixture
async def pg_store(pg_url: str) -> AsyncIterator[Store]:
    """A migrated store on a fresh PostgreSQL database."""
    s = Store(pg_url)
    await s.open(migrate=True)
    yield s
    await s.close()


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated store on each backend in turn (PostgreSQL skipped with a reason when absent)."""
    if request.param == "sqlite":
        s = Store(f"sqlite+aiosqlite:///{tmp_path}/store.db")
        await s.open(migrate=True)
        yield s
        await s.close()
        return
    if not pg_available():
        pytest.skip(f"PostgreSQL is not running on {PG_HOST}:{PG_PORT}")
    name = f"omni_test_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    s = Store(f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}")
    try:
        await s.open(migrate=True)
        yield s
    finally:
        await s.close()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
