"""officers' workspace: users, login sessions, canned replies, corrections, ticket assignee, message search

Full-text search over complaints (subject + text) lives outside the models, one per dialect:
SQLite gets an external-content FTS5 table ``complaints_search`` kept in step by triggers on
``complaints``; PostgreSQL a GIN expression index ``ix_complaints_search`` over
``to_tsvector('simple', ...)``. ``omnichannel.migrate.include_name`` keeps both out of the
models-vs-schema comparison. A later SQLite migration that recreates ``complaints`` (batch mode)
drops the triggers with the old table and must create them again (``search_triggers`` below).

Revision ID: 0005
Revises: 0004_reports
Create Date: 2026-12-06 11:50:35.620857
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0005'
down_revision = '0004_reports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('canned_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agency', 'name', name='uq_canned_replies_agency_name')
    )
    op.create_table('corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('ticket_ref', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('case_ref', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('complaint_ref', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('agency_from', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('agency_to', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrections_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrections_ticket_ref'), ['ticket_ref'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('login', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('agencies', sa.JSON(), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_login_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('login')
    )
    op.create_table('officer_sessions',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('officer_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officer_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_officer_sessions_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_to', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_assigned_to'), ['assigned_to'], unique=False)
        batch_op.create_index('ix_tickets_status_sla_due', ['status', 'sla_due'], unique=False)

    create_search()


SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE complaints_search USING fts5(subject, text, content='complaints', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
)


def search_triggers() -> tuple[str, ...]:
    """The triggers that keep SQLite's ``complaints_search`` in step with ``complaints``."""
    return (
        "CREATE TRIGGER complaints_search_ai AFTER INSERT ON complaints BEGIN "
        "INSERT INTO complaints_search(rowid, subject, text) VALUES (new.id, new.subject, new.text); END",
        "CREATE TRIGGER complaints_search_ad AFTER DELETE ON complaints BEGIN "
        "INSERT INTO complaints_search(complaints_search, rowid, subject, text) "
        "VALUES ('delete', old.id, old.subject, old.text); END",
        "CREATE TRIGGER complaints_search_au AFTER UPDATE OF subject, text ON complaints BEGIN "
        "INSERT INTO complaints_search(complaints_search, rowid, subject, text) "
        "VALUES ('delete', old.id, old.subject, old.text); "
        "INSERT INTO complaints_search(rowid, subject, text) VALUES (new.id, new.subject, new.text); END",
    )


def create_search() -> None:
    """The dialect's full-text index over complaints, filled from the rows already there."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for sql in (*SQLITE_SEARCH, *search_triggers()):
            op.execute(sql)
        op.execute("INSERT INTO complaints_search(complaints_search) VALUES ('rebuild')")
    elif dialect == "postgresql":
        op.execute("CREATE INDEX ix_complaints_search ON complaints USING gin "
                   "(to_tsvector('simple', coalesce(subject, '') || ' ' || text))")


def drop_search() -> None:
    """Undo ``create_search``."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("complaints_search_ai", "complaints_search_ad", "complaints_search_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS complaints_search")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_complaints_search")


def downgrade() -> None:
    drop_search()
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_status_sla_due')
        batch_op.drop_index(batch_op.f('ix_tickets_assigned_to'))
        batch_op.drop_column('assigned_to')

    with op.batch_alter_table('officer_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_officer_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_officer_sessions_expires_at'))

    op.drop_table('officer_sessions')
    op.drop_table('users')
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corrections_ticket_ref'))
        batch_op.drop_index(batch_op.f('ix_corrections_at'))

    op.drop_table('corrections')
    op.drop_table('canned_replies')
