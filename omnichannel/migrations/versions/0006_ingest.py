"""search indexed after the commit: complaints queue for the full-text index instead of indexing in the ingest transaction

Migration 0005 indexed every complaint inside the transaction that stored it (SQLite: FTS5
triggers; PostgreSQL: a GIN expression index), ~100 µs a complaint on the intake's critical path.
Now an insert only queues the complaint's id in ``complaints_search_pending`` (a trigger: every
path that makes complaints is covered, a few µs), and ``omnichannel.search`` indexes the queue in
batches after the commit (the daemon's background indexer; tests call ``search.flush``).

SQLite keeps the external-content FTS5 table ``complaints_search``. What it holds stays exact: a
complaint is in the FTS index if and only if it exists and is not pending, so the update and delete
triggers remove old words only for complaints already indexed (an FTS5 'delete' of a row never
indexed would corrupt it), and an edit queues the complaint again.

PostgreSQL gets a table ``complaints_search(complaint_id, doc tsvector)`` with a GIN index in place
of the expression index, filled here from the complaints already stored; a statement-level insert
trigger queues a whole multi-row insert at once. ``omnichannel.migrate.include_name`` keeps all of
these out of the models-vs-schema comparison (their names start with ``complaints_search``).

A later SQLite migration that recreates ``complaints`` (batch mode) drops the triggers with the old
table and must create them again (``search_triggers`` below, not 0005's).

Revision ID: 0006_ingest
Revises: 0006_desk_queue (written after 0005; chained after main's head when main was merged)
Create Date: 2026-12-06 14:20:00
"""
from alembic import op


revision = '0006_ingest'
down_revision = '0006_desk_queue'
branch_labels = None
depends_on = None

PENDING = ("CREATE TABLE complaints_search_pending (complaint_id INTEGER NOT NULL PRIMARY KEY)",)
OLD_TRIGGERS = ("complaints_search_ai", "complaints_search_ad", "complaints_search_au")
# an FTS5 'delete' with the old words, only for a complaint that was indexed (not waiting in the queue)
FORGET_OLD = ("INSERT INTO complaints_search(complaints_search, rowid, subject, text) "
              "SELECT 'delete', old.id, old.subject, old.text WHERE NOT EXISTS "
              "(SELECT 1 FROM complaints_search_pending p WHERE p.complaint_id = old.id); ")


def search_triggers() -> tuple[str, ...]:
    """SQLite: the triggers that queue complaints for ``complaints_search`` and keep it exact (the statements
    of one trigger run in order: the pending check comes before the queue changes)."""
    return (
        "CREATE TRIGGER complaints_search_ai AFTER INSERT ON complaints BEGIN "
        "INSERT OR IGNORE INTO complaints_search_pending(complaint_id) VALUES (new.id); END",
        "CREATE TRIGGER complaints_search_ad AFTER DELETE ON complaints BEGIN " + FORGET_OLD +
        "DELETE FROM complaints_search_pending WHERE complaint_id = old.id; END",
        "CREATE TRIGGER complaints_search_au AFTER UPDATE OF subject, text ON complaints BEGIN " + FORGET_OLD +
        "INSERT OR IGNORE INTO complaints_search_pending(complaint_id) VALUES (new.id); END",
    )


POSTGRES = (
    "CREATE TABLE complaints_search (complaint_id INTEGER NOT NULL PRIMARY KEY "
    "REFERENCES complaints (id) ON DELETE CASCADE, doc TSVECTOR NOT NULL)",
    "CREATE INDEX ix_complaints_search_doc ON complaints_search USING gin (doc)",
    # AFTER ... FOR EACH STATEMENT with the inserted rows as a table: one queueing INSERT per multi-row insert
    "CREATE FUNCTION complaints_search_queue_new() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO complaints_search_pending (complaint_id) SELECT id FROM fresh ON CONFLICT DO NOTHING; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER complaints_search_ai AFTER INSERT ON complaints REFERENCING NEW TABLE AS fresh "
    "FOR EACH STATEMENT EXECUTE FUNCTION complaints_search_queue_new()",
    # an edit: the old words leave at once (as on SQLite), the new ones come with the next indexing
    "CREATE FUNCTION complaints_search_queue_edit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "DELETE FROM complaints_search WHERE complaint_id = new.id; INSERT INTO complaints_search_pending (complaint_id) VALUES (new.id) ON CONFLICT DO NOTHING; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER complaints_search_au AFTER UPDATE OF subject, text ON complaints FOR EACH ROW "
    "WHEN (old.subject IS DISTINCT FROM new.subject OR old.text IS DISTINCT FROM new.text) "
    "EXECUTE FUNCTION complaints_search_queue_edit()",
    "CREATE FUNCTION complaints_search_unqueue() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "DELETE FROM complaints_search_pending p USING gone WHERE p.complaint_id = gone.id; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER complaints_search_ad AFTER DELETE ON complaints REFERENCING OLD TABLE AS gone "
    "FOR EACH STATEMENT EXECUTE FUNCTION complaints_search_unqueue()",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in OLD_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for sql in (*PENDING, *search_triggers()):
            op.execute(sql)
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_complaints_search")
        for sql in (*PENDING, *POSTGRES):
            op.execute(sql)
        op.execute("INSERT INTO complaints_search (complaint_id, doc) SELECT id, "
                   "to_tsvector('simple', coalesce(subject, '') || ' ' || text) FROM complaints")
        # statistics now: until autovacuum gets to the new table the planner takes every word for a common
        # one and a search for a rare word walks the whole queue (250 ms instead of 17 at 100,000 tickets)
        op.execute("ANALYZE complaints_search")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in OLD_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS complaints_search_pending")
        # 0005's triggers, and the words of whatever was still queued
        op.execute("CREATE TRIGGER complaints_search_ai AFTER INSERT ON complaints BEGIN "
                   "INSERT INTO complaints_search(rowid, subject, text) VALUES (new.id, new.subject, new.text); END")
        op.execute("CREATE TRIGGER complaints_search_ad AFTER DELETE ON complaints BEGIN "
                   "INSERT INTO complaints_search(complaints_search, rowid, subject, text) "
                   "VALUES ('delete', old.id, old.subject, old.text); END")
        op.execute("CREATE TRIGGER complaints_search_au AFTER UPDATE OF subject, text ON complaints BEGIN "
                   "INSERT INTO complaints_search(complaints_search, rowid, subject, text) "
                   "VALUES ('delete', old.id, old.subject, old.text); "
                   "INSERT INTO complaints_search(rowid, subject, text) VALUES (new.id, new.subject, new.text); END")
        op.execute("INSERT INTO complaints_search(complaints_search) VALUES ('rebuild')")
    elif dialect == "postgresql":
        for trigger, function in (("complaints_search_ai", "complaints_search_queue_new"),
                                  ("complaints_search_au", "complaints_search_queue_edit"),
                                  ("complaints_search_ad", "complaints_search_unqueue")):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON complaints")
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
        op.execute("DROP TABLE IF EXISTS complaints_search")
        op.execute("DROP TABLE IF EXISTS complaints_search_pending")
        op.execute("CREATE INDEX ix_complaints_search ON complaints USING gin "
                   "(to_tsvector('simple', coalesce(subject, '') || ' ' || text))")
