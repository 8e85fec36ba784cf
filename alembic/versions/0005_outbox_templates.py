"""The outbox keeps each message as an email's name and its parameters, rendered when
sent; rendered bodies stay readable for messages queued before

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 08:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outgoing_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("template", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("payload", sa.LargeBinary(), nullable=True))
        batch_op.alter_column("subject", existing_type=sa.String(length=255), nullable=True)


def downgrade() -> None:
    # Messages queued by this version cannot be sent by the one before: they have no
    # rendered body. Those still waiting are marked failed, with the reason, rather than
    # dropped without a trace.
    op.execute(
        "UPDATE outgoing_emails SET failed_at = created_at, subject = '(not sent)', "
        "last_error = 'queued by a later version; not sent after the downgrade' "
        "WHERE template IS NOT NULL AND sent_at IS NULL AND failed_at IS NULL"
    )
    op.execute("UPDATE outgoing_emails SET subject = '(sent)' WHERE subject IS NULL")
    with op.batch_alter_table("outgoing_emails", schema=None) as batch_op:
        batch_op.alter_column("subject", existing_type=sa.String(length=255), nullable=False)
        batch_op.drop_column("payload")
        batch_op.drop_column("template")
