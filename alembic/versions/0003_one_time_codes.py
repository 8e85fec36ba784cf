"""One table of one-time codes for every purpose (was password_resets)

The purpose column widens to 20 characters for the purposes to come (verify_email,
change_email, not_me). The table is made anew and the rows copied, which gives the
constraints and indexes their new names the same way on SQLite and PostgreSQL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = "id, account_id, purpose, code_hash, created_at, expires_at, created_ip, used_at, used_ip"


def _create(table: str, purpose_length: int) -> None:
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=purpose_length), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_ip", sa.String(length=45), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_ip", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f(f"fk_{table}_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("code_hash", name=op.f(f"uq_{table}_code_hash")),
    )
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(f"ix_{table}_account_id_used_at", ["account_id", "used_at"])


def _restart_ids(table: str) -> None:
    # Rows were copied with their ids; PostgreSQL's sequence must continue after them.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our names
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )


def upgrade() -> None:
    _create("one_time_codes", 20)
    op.execute(f"INSERT INTO one_time_codes ({COLUMNS}) SELECT {COLUMNS} FROM password_resets")  # noqa: S608
    _restart_ids("one_time_codes")
    op.drop_table("password_resets")


def downgrade() -> None:
    _create("password_resets", 10)
    # The old table knows only resets and invitations; codes of later purposes are
    # one-time links that simply stop working.
    op.execute(
        f"INSERT INTO password_resets ({COLUMNS}) SELECT {COLUMNS} FROM one_time_codes "  # noqa: S608
        "WHERE purpose IN ('reset', 'invite')"
    )
    _restart_ids("password_resets")
    op.drop_table("one_time_codes")
