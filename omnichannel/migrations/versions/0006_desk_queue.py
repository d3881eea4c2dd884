"""the officers' queue read in index order: tickets by (sla_due, id), (created_at, id), (updated_at, id);
complaints by (case_id, channel) and (id, case_id)

``GET /api/v1/tickets`` sorts by one of three columns with the id as tie-break and stops after a page:
with these indexes the database walks the order instead of sorting every matching ticket (50,000 open
ones took most of a request's time on PostgreSQL). ``(case_id, channel)`` answers the channel filter's
"has this case a message from channel X" from the index alone; ``(id, case_id)`` maps the complaint ids a
full-text search finds to their cases without reading each complaint's row (27,000 rows of text: 86 ms
on SQLite, 24 ms from this index).

Plain ``op.create_index`` (no batch mode): on SQLite a batch that recreated ``complaints`` would drop the
full-text triggers of migration 0005.

Revision ID: 0006_desk_queue
Revises: 0006_report_stamps (written after 0005; chained after the reports migration when main was merged)
Create Date: 2026-12-06 14:30:00
"""
from alembic import op

revision = "0006_desk_queue"
down_revision = "0006_report_stamps"
branch_labels = None
depends_on = None

TICKET_ORDERS = {"ix_tickets_sla_due_id": ["sla_due", "id"], "ix_tickets_created_at_id": ["created_at", "id"],
                 "ix_tickets_updated_at_id": ["updated_at", "id"]}


def upgrade() -> None:
    for name, columns in TICKET_ORDERS.items():
        op.create_index(name, "tickets", columns, unique=False)
    op.create_index("ix_complaints_case_channel", "complaints", ["case_id", "channel"], unique=False)
    op.create_index("ix_complaints_id_case", "complaints", ["id", "case_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_complaints_id_case", table_name="complaints")
    op.drop_index("ix_complaints_case_channel", table_name="complaints")
    for name in TICKET_ORDERS:
        op.drop_index(name, table_name="tickets")
