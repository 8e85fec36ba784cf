"""The identity provider: clients, consents, codes, refresh tokens, signing keys, the
back-channel logout queue, and the subject id of each account

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:17:19
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oidc_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("algorithm", sa.String(length=10), nullable=False),
        sa.Column("private_key", sa.LargeBinary(), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_oidc_keys_kid")),
    )
    op.create_table(
        "oidc_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False),
        sa.Column("backchannel_logout_uri", sa.String(length=2000), nullable=True),
        sa.Column("first_party", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("secret_rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["accounts.id"],
            name=op.f("fk_oidc_clients_created_by_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oidc_clients_client_id")),
    )
    op.create_table(
        "oidc_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.String(length=500), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_oidc_consents_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["oidc_clients.id"],
            name=op.f("fk_oidc_consents_client_pk_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_consents")),
        sa.UniqueConstraint("account_id", "client_pk", name=op.f("uq_oidc_consents_account_id")),
    )
    with op.batch_alter_table("oidc_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_consents_client_pk"), ["client_pk"], unique=False)

    op.create_table(
        "oidc_logout_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("login_session_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["oidc_clients.id"],
            name=op.f("fk_oidc_logout_deliveries_client_pk_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_logout_deliveries")),
        sa.UniqueConstraint(
            "client_pk", "login_session_id", name=op.f("uq_oidc_logout_deliveries_client_pk")
        ),
    )
    with op.batch_alter_table("oidc_logout_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_oidc_logout_deliveries_due", ["delivered_at", "next_attempt_at"], unique=False
        )

    op.create_table(
        "oidc_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("login_session_id", sa.Integer(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("nonce", sa.String(length=255), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["oidc_clients.id"],
            name=op.f("fk_oidc_codes_client_pk_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["login_session_id"],
            ["login_sessions.id"],
            name=op.f("fk_oidc_codes_login_session_id_login_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_oidc_codes_code_hash")),
    )
    with op.batch_alter_table("oidc_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oidc_codes_client_pk"), ["client_pk"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_oidc_codes_login_session_id"), ["login_session_id"], unique=False
        )

    op.create_table(
        "oidc_refresh_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("code_id", sa.Integer(), nullable=True),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("login_session_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["oidc_clients.id"],
            name=op.f("fk_oidc_refresh_tokens_client_pk_oidc_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["oidc_codes.id"],
            name=op.f("fk_oidc_refresh_tokens_code_id_oidc_codes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["login_session_id"],
            ["login_sessions.id"],
            name=op.f("fk_oidc_refresh_tokens_login_session_id_login_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["oidc_refresh_tokens.id"],
            name=op.f("fk_oidc_refresh_tokens_parent_id_oidc_refresh_tokens"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_oidc_refresh_tokens_token_hash")),
    )
    with op.batch_alter_table("oidc_refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oidc_refresh_tokens_client_pk"), ["client_pk"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_oidc_refresh_tokens_code_id"), ["code_id"], unique=False
        )
        batch_op.create_index("ix_oidc_refresh_tokens_family", ["family"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_oidc_refresh_tokens_login_session_id"),
            ["login_session_id"],
            unique=False,
        )

    # Each existing account gets its random subject id, and each session its random
    # sid, before the columns are required.
    for table, column in (("accounts", "public_id"), ("login_sessions", "sid")):
        _add_random_column(table, column)


def _add_random_column(table_name: str, column: str) -> None:
    with op.batch_alter_table(table_name, schema=None) as batch_op:
        batch_op.add_column(sa.Column(column, sa.String(length=32), nullable=True))
    table = sa.table(table_name, sa.column("id", sa.Integer), sa.column(column, sa.String))
    connection = op.get_bind()
    for (row_id,) in connection.execute(sa.select(table.c.id)).all():
        connection.execute(
            table.update().where(table.c.id == row_id).values({column: secrets.token_hex(16)})
        )
    with op.batch_alter_table(table_name, schema=None) as batch_op:
        batch_op.alter_column(column, existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f(f"uq_{table_name}_{column}"), [column])


def downgrade() -> None:
    for table_name, column in (("login_sessions", "sid"), ("accounts", "public_id")):
        with op.batch_alter_table(table_name, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"uq_{table_name}_{column}"), type_="unique")
            batch_op.drop_column(column)

    with op.batch_alter_table("oidc_refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_refresh_tokens_login_session_id"))
        batch_op.drop_index("ix_oidc_refresh_tokens_family")
        batch_op.drop_index(batch_op.f("ix_oidc_refresh_tokens_code_id"))
        batch_op.drop_index(batch_op.f("ix_oidc_refresh_tokens_client_pk"))

    op.drop_table("oidc_refresh_tokens")
    with op.batch_alter_table("oidc_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_codes_login_session_id"))
        batch_op.drop_index(batch_op.f("ix_oidc_codes_client_pk"))

    op.drop_table("oidc_codes")
    with op.batch_alter_table("oidc_logout_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_oidc_logout_deliveries_due")

    op.drop_table("oidc_logout_deliveries")
    with op.batch_alter_table("oidc_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oidc_consents_client_pk"))

    op.drop_table("oidc_consents")
    op.drop_table("oidc_clients")
    op.drop_table("oidc_keys")
