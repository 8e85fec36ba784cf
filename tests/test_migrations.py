"""The schema comes only from Alembic, and the migrations give exactly the models, on
SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.models.meta import Base
from tests.conftest import alembic_config


def test_migrations_give_exactly_the_models_schema(empty_db_url):
    url = empty_db_url
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_migrations_go_down_to_nothing_and_up_again(empty_db_url):
    url = empty_db_url
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert set(inspect(engine).get_table_names()) == {
        "alembic_version",
        "accounts",
        "account_events",
        "one_time_codes",
        "known_devices",
        "recovery_codes",
        "webauthn_credentials",
        "spent_passkey_challenges",
        "login_sessions",
        "outgoing_emails",
        "oidc_clients",
        "oidc_consents",
        "oidc_codes",
        "oidc_refresh_tokens",
        "oidc_keys",
        "oidc_logout_deliveries",
        "upstream_identities",
    }
    engine.dispose()


def test_a_downgrade_does_not_drop_the_audit_trail_without_being_asked(empty_db_url):
    """docs/security.md 52: going below the revision that made account_events stops when
    events are recorded, unless the operator says so."""
    import pytest
    from sqlalchemy import text

    config = alembic_config(empty_db_url)
    command.upgrade(config, "head")
    engine = create_engine(empty_db_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO account_events (kind, created_at, details)"
                " VALUES ('sign_in', CURRENT_TIMESTAMP, '{}')"
            )
        )
    with pytest.raises(SystemExit, match="audit trail"):
        command.downgrade(config, "base")
    assert "account_events" in inspect(engine).get_table_names()
    config.cmd_opts = type("Options", (), {"x": ["drop_audit_trail=yes"]})()
    command.downgrade(config, "base")
    assert "account_events" not in inspect(engine).get_table_names()
    engine.dispose()


def test_accounts_made_before_the_provider_get_a_random_subject_each(empty_db_url):
    """Migration 0011 gives every existing account its own `sub`, never the row id."""
    from sqlalchemy import text

    config = alembic_config(empty_db_url)
    command.upgrade(config, "0010")
    engine = create_engine(empty_db_url)
    with engine.begin() as connection:
        for email in ("a@example.com", "b@example.com"):
            connection.execute(
                text("INSERT INTO accounts (email, created_at) VALUES (:email, CURRENT_TIMESTAMP)"),
                {"email": email},
            )
    command.upgrade(config, "head")
    with engine.connect() as connection:
        subjects = [row[0] for row in connection.execute(text("SELECT public_id FROM accounts"))]
    engine.dispose()
    assert len(subjects) == 2 and len(set(subjects)) == 2
    assert all(len(subject) >= 16 and not subject.isdigit() for subject in subjects)
