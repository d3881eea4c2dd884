"""index outbox.remote_ref

A citizen's reply to our acknowledgement is matched to its complaint through the outbox row that
sent the acknowledgement (``remote_ref`` is the id the channel gave our message); without an index
that lookup read the whole outbox, which only grows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:20:00
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_remote_ref", ["remote_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_remote_ref")
