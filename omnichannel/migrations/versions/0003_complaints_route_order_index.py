"""index complaints by (status, created_at, id): the order the router takes received complaints in

Replicas allocate ids in blocks, so id order is not arrival order when several take complaints in;
the router now routes in the order the store received them (created_at, then id), which this index
serves (it also serves every lookup by status alone, so it replaces ix_complaints_status).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 11:40:00
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_status")
        batch_op.create_index("ix_complaints_route_order", ["status", "created_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_route_order")
        batch_op.create_index("ix_complaints_status", ["status"], unique=False)
