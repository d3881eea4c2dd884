"""Schema migrations with alembic, run programmatically on the store's own async engine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from alembic import command
from alembic.config import Config as AlembicConfig

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.ext.asyncio import AsyncEngine


class Store(Protocol):
    """What migrations need of ``omnichannel.store.Store`` (a protocol: the store imports this module)."""

    engine: AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Any = None) -> AlembicConfig:
    """An alembic config pointing at our migrations, optionally bound to an open connection."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", "sqlite://")  # unused: env.py takes the bound connection
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(store: Store, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    async with store.engine.begin() as conn:
        await conn.run_sync(lambda sync_conn: command.upgrade(alembic_config(sync_conn), revision))


async def current(store: Store) -> str | None:
    """The revision the store is at (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    async with store.engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


SEARCH_OBJECTS = ("complaints_search", "ix_complaints_search")


def include_name(name: str | None, type_: str, _parents: dict[str, Any]) -> bool:
    """Leave the full-text search objects (migration 0005, one per dialect) out of autogenerate."""
    return not (name and name.startswith(SEARCH_OBJECTS))
