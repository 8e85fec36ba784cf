"""Sessions remember the browser they came from; accounts remember a breached password

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_breached_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("known_device_id", sa.Integer()))
        batch_op.create_foreign_key(
            batch_op.f("fk_login_sessions_known_device_id_known_devices"),
            "known_devices",
            ["known_device_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            batch_op.f("ix_login_sessions_known_device_id"), ["known_device_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_known_device_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_login_sessions_known_device_id_known_devices"), type_="foreignkey"
        )
        batch_op.drop_column("known_device_id")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("password_breached_at")
