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


async def test_reports_migration_fills_what_existing_rows_already_say(any_store):
    """0004_reports: tickets get received_at, routed_agency and first_response_at from their case and
    audit log; complaints their kecamatan from the location."""
    from alembic import command
    from sqlalchemy import text

    from omnichannel.migrate import alembic_config

    await upgrade(any_store)
    async with any_store.engine.begin() as conn:  # the store as it was before (this also runs the downgrade)
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0003"))
    stamp = "2026-03-02 02:00:00" if any_store.dialect == "sqlite" else "2026-03-02 02:00:00+00"
    later = "2026-03-03 04:00:00" if any_store.dialect == "sqlite" else "2026-03-03 04:00:00+00"
    async with any_store.engine.begin() as conn:
        await conn.execute(text("INSERT INTO cases (id, ref, complaint_count, reporter_count, created_at, updated_at) "
                                f"VALUES (1, 'KAS-1', 1, 1, '{later}', '{later}')"))
        await conn.execute(text(
            "INSERT INTO complaints (id, ref, connector, channel, text, anonymous, confidential, status, agency, "
            f"location, case_id, created_at) VALUES (1, 'ADU-1', 'tg', 'telegram', 'x', false, false, 'routed', 'dlh', "
            f"'{{\"kecamatan\": \"Coblong\"}}', 1, '{stamp}')"))
        await conn.execute(text(
            "INSERT INTO tickets (id, ref, case_id, agency, kind, status, sla_extended, overdue, created_at, updated_at) "
            f"VALUES (1, 'TIK-1', 1, 'pupr', 'pengaduan', 'diproses', false, false, '{later}', '{later}')"))
        await conn.execute(text(
            "INSERT INTO audit_events (at, actor, action, subject_type, subject_ref, detail) "
            f"VALUES ('{later}', 'o', 'status', 'ticket', 'TIK-1', '{{}}')"))
    await upgrade(any_store)
    async with any_store.engine.connect() as conn:
        row = (await conn.execute(text("SELECT received_at, routed_agency, first_response_at, reopened FROM tickets"))).one()
        kec = (await conn.execute(text("SELECT kecamatan FROM complaints"))).scalar_one()
    assert str(row[0]).startswith("2026-03-02 02:00:00") and row[1] == "dlh" and row[3] == 0
    assert str(row[2]).startswith("2026-03-03 04:00:00") and kec == "Coblong"
