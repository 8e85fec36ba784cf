"""Accounts at other providers (Google, GitHub, any OpenID Connect issuer) linked to
local accounts, for signing in with them

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=30), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "subject", name="uq_upstream_identities_subject"),
    )
    op.create_index("ix_upstream_identities_account_id", "upstream_identities", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_upstream_identities_account_id", table_name="upstream_identities")
    op.drop_table("upstream_identities")
