"""reports: ticket timeline columns, information-request outcome, keberatan

The figures a Pemda is judged by (omnichannel.reports) are SQL aggregates over tickets. A ticket
now records when the citizen's first message arrived (``received_at``, the SLA clock's start; it was
only on the complaint), its first response, how often it was reopened, and for information
requests the decision and the UU 14/2008 reason of a refusal. ``objections`` holds keberatan with
the superior's 30-working-day deadline. Existing tickets get ``received_at`` from their case's first
complaint, ``routed_agency`` from the agency the router chose for that complaint, and
``first_response_at`` from the audit log's first answer or status change; complaints get ``kecamatan``
from their location (grouping by a column is far cheaper than by a JSON path).

Revision ID: 0004_reports
Revises: 0003
Create Date: 2026-12-06 11:40:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004_reports"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("first_response_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("reopened", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("info_outcome", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True))
        batch_op.add_column(sa.Column("refusal_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column("routed_agency", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kecamatan", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index("ix_complaints_report", ["agency", "channel", "kind", "status", "dedup_level",
                                                       "kecamatan", "created_at"], unique=False)
    kecamatan = ("json_extract(location, '$.kecamatan')" if op.get_bind().dialect.name == "sqlite"
                 else "(location::json ->> 'kecamatan')")
    op.execute(f"UPDATE complaints SET kecamatan = substr({kecamatan}, 1, 64) WHERE location IS NOT NULL")
    op.execute("UPDATE tickets SET routed_agency = (SELECT c.agency FROM complaints c WHERE c.case_id = tickets.case_id "
               "AND c.dedup_level IS NULL ORDER BY c.id LIMIT 1)")
    op.execute("UPDATE tickets SET received_at = COALESCE((SELECT MIN(c.created_at) FROM complaints c "
               "WHERE c.case_id = tickets.case_id), created_at)")
    op.execute("UPDATE tickets SET first_response_at = (SELECT MIN(a.at) FROM audit_events a "
               "WHERE a.subject_type = 'ticket' AND a.subject_ref = tickets.ref AND a.action IN ('answer', 'status'))")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.alter_column("received_at", existing_type=sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False)
        batch_op.create_index("ix_tickets_received_at", ["received_at"], unique=False)
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_ups_created_at"), ["created_at"], unique=False)

    op.create_table(
        "objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("filed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("answered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True),
        sa.Column("commission_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objections_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_objections_filed_at"), ["filed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objections_filed_at"))
        batch_op.drop_index(batch_op.f("ix_objections_ticket_id"))
    op.drop_table("objections")
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_ups_created_at"))
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_report")
        batch_op.drop_column("kecamatan")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_received_at")
        batch_op.drop_column("routed_agency")
        batch_op.drop_column("refusal_reason")
        batch_op.drop_column("info_outcome")
        batch_op.drop_column("reopened")
        batch_op.drop_column("first_response_at")
        batch_op.drop_column("received_at")
