"""reports: working-day stamps on tickets

A year's report over a million complaints must take seconds, not tens of seconds: turning every
ticket's timestamps into local dates and working-day numbers in the query was most of the cost.
Tickets now keep those numbers (``received_day``, ``received_wd``, ``response_days``,
``completion_days``) with the fingerprint of the calendar they were computed on (``wd_calendar``;
NULL = not stamped), and three covering indexes in the order of the report's GROUP BYs (SQLite then
streams an index instead of sorting every ticket; PostgreSQL hashes fewer, narrower keys). The calendar is configuration (time zone, cuti bersama, regional holidays), which a
migration does not read: existing tickets are left unstamped here and the first report stamps them
(``omnichannel.reports.stamps``), as it restamps everything when the calendar changes.

Revision ID: 0006_report_stamps
Revises: 0005
Create Date: 2026-12-06 14:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_report_stamps"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tickets_report_completion": ("kind", "agency", "info_outcome", "refusal_reason", "sla_extended",
                                     "completion_days", "received_at", "status", "closed_at", "sla_due", "reopened",
                                     "routed_agency"),
    "ix_tickets_report_response": ("kind", "agency", "response_days", "received_at", "status", "first_response_at"),
    "ix_tickets_report_day": ("kind", "agency", "received_day", "received_wd", "received_at", "status", "closed_at",
                              "sla_due"),
}


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("received_wd", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("response_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("completion_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("wd_calendar", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_tickets_wd_calendar", ["wd_calendar"], unique=False)
        # the dashboard's oldest overdue tickets: read in deadline order, stop after ten (was: sort them all)
        batch_op.create_index("ix_tickets_sla_due", ["sla_due"], unique=False)
        batch_op.create_index("ix_tickets_report_completion", [*INDEXES["ix_tickets_report_completion"]], unique=False)
        batch_op.create_index("ix_tickets_report_response", [*INDEXES["ix_tickets_report_response"]], unique=False)
        batch_op.create_index("ix_tickets_report_day", [*INDEXES["ix_tickets_report_day"]], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_index("ix_tickets_sla_due")
        batch_op.drop_index("ix_tickets_wd_calendar")
        batch_op.drop_column("wd_calendar")
        batch_op.drop_column("completion_days")
        batch_op.drop_column("response_days")
        batch_op.drop_column("received_wd")
        batch_op.drop_column("received_day")
