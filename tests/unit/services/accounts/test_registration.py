"""Registering an address through RegistrationService (on SQLite and PostgreSQL): what a
new account starts as, which passwords are refused, and what an attempt on an address
that has an account leaves."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from app.models import PURPOSE_RESET, PURPOSE_VERIFY_EMAIL, Account
from app.services.composition import Services
from app.services.kernel import audit as events
from app.services.kernel.errors import CodeUsed, PasswordRejected
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD
from tests.support.outbox import emails_to
from tests.support.records import account_events, recorded_as

ADDRESS = "violet.harbor.mosaic@example.com"


def _kinds_and_accounts(dbsession: Session) -> list[tuple[str, int | None]]:
    return [(e.kind, e.account_id) for e in account_events(dbsession)]


def test_a_registered_account_is_a_plain_unconfirmed_one_that_never_signed_in(
    services: Services, dbsession: Session
) -> None:
    services.registration.register(ADDRESS, STRONG_PASSWORD)

    account = dbsession.scalars(select(Account)).one()
    assert account.email == ADDRESS
    assert (account.is_admin, account.is_disabled) == (False, False)
    assert (account.login_count, account.last_login_at) == (0, None)
    assert account.email_verified_at is None
    assert [m.template for m in emails_to(dbsession, ADDRESS)] == ["verify_email"]
    # The owner's activity page starts with it.
    assert recorded_as(dbsession, events.REGISTERED) == [(account.id, None, {})]


def test_the_address_itself_is_refused_as_the_password(
    services: Services, dbsession: Session
) -> None:
    with pytest.raises(PasswordRejected) as refused:
        services.registration.register(ADDRESS, ADDRESS.upper())

    assert str(refused.value) == "Do not use your email address as your password."
    assert dbsession.scalars(select(Account)).all() == []


def test_registering_an_address_that_has_an_account_is_recorded_on_that_account(
    services: Services, dbsession: Session
) -> None:
    existing = services.accounts.create_account(ADDRESS, STRONG_PASSWORD, email_verified=True)

    services.registration.register(ADDRESS, OTHER_PASSWORD)

    assert _kinds_and_accounts(dbsession) == [(events.REGISTRATION_ATTEMPT, existing.id)]
    assert [m.template for m in emails_to(dbsession, ADDRESS)] == ["registration_attempt"]
    assert services.authentication.get_authenticated_account(ADDRESS, STRONG_PASSWORD) is existing


@pytest.mark.backends("postgresql")
def test_an_address_whose_account_is_deleted_while_it_is_registered_again_is_told_anyway(
    services: Services, dbsession: Session, other_dbsession: Session, db_backend: str
) -> None:
    # The pruner deletes an old unconfirmed account between the INSERT that found the
    # address taken and the look-up of its account. Only PostgreSQL: SQLite cannot
    # interleave these, as the INSERT holds its only writer's lock until the end.
    services.accounts.create_account(ADDRESS, STRONG_PASSWORD)
    dbsession.commit()

    pruned: list[int] = []

    def pruned_meanwhile(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO accounts") and not pruned:
            result = other_dbsession.execute(delete(Account).where(Account.email == ADDRESS))
            pruned.append(result.rowcount)  # type: ignore[attr-defined]
            other_dbsession.commit()

    engine = dbsession.get_bind()
    event.listen(engine, "after_cursor_execute", pruned_meanwhile)
    try:
        services.registration.register(ADDRESS, OTHER_PASSWORD)
    finally:
        event.remove(engine, "after_cursor_execute", pruned_meanwhile)

    assert pruned == [1]

    assert _kinds_and_accounts(dbsession) == [(events.REGISTRATION_ATTEMPT, None)]
    assert [m.template for m in emails_to(dbsession, ADDRESS)] == ["registration_attempt"]


def test_confirming_spends_every_other_confirmation_link_of_the_account(
    services: Services,
) -> None:
    """docs/security.md 53: a second link cannot confirm again, nor sign anyone in."""
    account = services.accounts.register("carol@example.com", STRONG_PASSWORD)
    first = services.codes.create(account, PURPOSE_VERIFY_EMAIL, None)
    second = services.codes.create(account, PURPOSE_VERIFY_EMAIL, None)
    reset = services.codes.create(account, PURPOSE_RESET, None)

    assert services.registration.confirm(first, STRONG_PASSWORD) is account

    with pytest.raises(CodeUsed):
        services.registration.confirm(second, STRONG_PASSWORD)
    # Links of other purposes are left alone.
    assert services.accounts.check_reset_code(reset).account is account


def test_a_link_of_an_account_confirmed_meanwhile_is_refused_as_used(
    services: Services,
) -> None:
    account = services.accounts.register("carol@example.com", STRONG_PASSWORD)
    code = services.codes.create(account, PURPOSE_VERIFY_EMAIL, None)
    account.email_verified_at = services.clock.now()

    with pytest.raises(CodeUsed):
        services.registration.confirm(code, STRONG_PASSWORD)
    assert [e.kind for e in account_events(services.dbsession)][-1] == events.CODE_USED


def test_the_link_of_an_account_confirmed_meanwhile_is_recorded_as_used_on_that_account(
    services: Services, dbsession: Session
) -> None:
    account = services.accounts.register("carol@example.com", STRONG_PASSWORD)
    code = services.codes.create(account, PURPOSE_VERIFY_EMAIL, None)
    account.email_verified_at = services.clock.now()

    with pytest.raises(CodeUsed):
        services.registration.confirm(code, STRONG_PASSWORD)

    assert recorded_as(dbsession, events.CODE_USED) == [
        (account.id, None, {"purpose": PURPOSE_VERIFY_EMAIL})
    ]
