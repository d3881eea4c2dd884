"""The migrations build exactly the schema the models describe (tables, columns, indexes)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from omnichannel.migrate import include_name, upgrade


async def test_migrated_schema_matches_the_models(any_store):
    await upgrade(any_store)

    def diff(conn):
        return compare_metadata(MigrationContext.configure(conn, opts={"include_name": include_name}), SQLModel.metadata)

    async with any_store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
