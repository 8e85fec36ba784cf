"""Login sessions of the JSON API's app mode: each session says whether a browser's
cookie or an application's bearer token carries it

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 22:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), server_default="browser", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_column("kind")
