"""Passkeys: WebAuthn credentials, the user handle they carry for each account, and
the challenges already answered

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webauthn_user_handle", sa.LargeBinary()))
        batch_op.create_unique_constraint(
            batch_op.f("uq_accounts_webauthn_user_handle"), ["webauthn_user_handle"]
        )
    op.create_table(
        "webauthn_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("transports", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_webauthn_credentials_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webauthn_credentials")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_webauthn_credentials_credential_id")),
    )
    with op.batch_alter_table("webauthn_credentials", schema=None) as batch_op:
        batch_op.create_index("ix_webauthn_credentials_account_id", ["account_id"])
    op.create_table(
        "spent_passkey_challenges",
        sa.Column("challenge_hash", sa.String(length=64), nullable=False),
        sa.Column("spent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("challenge_hash", name=op.f("pk_spent_passkey_challenges")),
    )
    with op.batch_alter_table("spent_passkey_challenges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spent_passkey_challenges_spent_at"), ["spent_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("spent_passkey_challenges")
    with op.batch_alter_table("webauthn_credentials", schema=None) as batch_op:
        batch_op.drop_index("ix_webauthn_credentials_account_id")
    op.drop_table("webauthn_credentials")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_accounts_webauthn_user_handle"), type_="unique")
        batch_op.drop_column("webauthn_user_handle")
