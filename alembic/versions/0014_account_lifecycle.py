"""An account's life: when its owner asked for it to be deleted (the grace period), and
the wrong tries at an emailed sign-in code

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deletion_requested_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("one_time_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("one_time_codes", schema=None) as batch_op:
        batch_op.drop_column("attempts")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("deletion_requested_at")
