"""Audit trail of security events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 05:40:00
"""

import sqlalchemy as sa
from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_account_events_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["accounts.id"],
            name=op.f("fk_account_events_actor_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_events")),
    )
    with op.batch_alter_table("account_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_events_account_id_created_at", ["account_id", "created_at"], unique=False
        )


def downgrade() -> None:
    # The audit trail is not dropped without being asked: a downgrade past this revision
    # with events recorded stops here, unless run with -x drop_audit_trail=yes.
    events = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM account_events")).scalar()
    if events and context.get_x_argument(as_dictionary=True).get("drop_audit_trail") != "yes":
        raise SystemExit(
            f"Refusing to drop account_events: it holds {events} events of the audit trail."
            " Export them first, then run the downgrade again with -x drop_audit_trail=yes."
        )
    with op.batch_alter_table("account_events", schema=None) as batch_op:
        batch_op.drop_index("ix_account_events_account_id_created_at")
    op.drop_table("account_events")
