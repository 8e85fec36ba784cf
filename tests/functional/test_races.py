"""Races between requests: parallel guesses, and sign-ins that overlap a reset."""

from __future__ import annotations

import threading

import transaction
from sqlalchemy import func, select

from app.models import Account, LoginSession
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import account_service, create_account, db, services, sign_in
from tests.support import form_by_action

ALICE = "alice@example.com"


def test_parallel_guesses_cannot_get_past_the_per_account_limit(make_app, app_settings):
    wsgi_app = make_app({**app_settings, "ratelimit.signin_per_ip": "1000/minute"})
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    forms = []
    for _ in range(30):
        client = new_client(wsgi_app)
        form = form_by_action(client.get("/account/signin"), "/account/signin")
        form["email"] = ALICE
        form["password"] = "a wrong guess at it"
        forms.append(form)
    start = threading.Barrier(len(forms))
    statuses: list[int] = []

    def guess(form) -> None:
        start.wait()
        statuses.append(form.submit(status="*").status_int)

    threads = [threading.Thread(target=guess, args=(form,)) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses.count(400) == 10
    assert statuses.count(429) == 20


def test_a_sign_in_that_checked_the_old_password_during_a_reset_gets_no_session(wsgi_app):
    """The sign-in verifies the old password, then the reset commits, then the sign-in
    tries to count itself and start a session: it must fail."""
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    factory = wsgi_app.registry["dbsession_factory"]
    attacker_session = factory()
    with attacker_session.begin():
        attacker = services(wsgi_app, attacker_session).authentication
        checked = attacker.get_authenticated_account(ALICE, STRONG_PASSWORD)
        assert checked is not None
        # Meanwhile the owner resets the password, in another transaction.
        with factory() as owner_session, owner_session.begin():
            owner = account_service(wsgi_app, owner_session)
            code = owner.create_reset_code(ALICE, None)
        with factory() as owner_session, owner_session.begin():
            account_service(wsgi_app, owner_session).reset_password(code, OTHER_PASSWORD)
        assert attacker.record_sign_in(checked, method="password") is False
    attacker_session.close()
    with db(wsgi_app) as session:
        assert session.scalar(select(func.count()).select_from(LoginSession)) == 0
        assert session.scalars(select(Account.login_count)).one() == 0
    sign_in(new_client(wsgi_app), ALICE, OTHER_PASSWORD)


def test_guessing_the_current_password_on_change_password_is_limited(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    statuses = []
    for _ in range(12):
        form = form_by_action(client.get("/account/change_password"), "/account/change_password")
        form["current_password"] = "just guessing here"
        form["password"] = form["confirm_password"] = OTHER_PASSWORD
        statuses.append(form.submit(status="*").status_int)
    assert statuses == [400] * 10 + [429] * 2


def test_an_aborted_request_leaves_no_half_created_account(wsgi_app):
    """A request that creates an account and then fails leaves nothing behind, on SQLite
    too (where a savepoint would have committed the account on its own)."""
    manager = transaction.TransactionManager(explicit=True)
    from app.models import get_tm_session

    manager.begin()
    session = get_tm_session(wsgi_app.registry["dbsession_factory"], manager)
    account_service(wsgi_app, session).create_account("half@example.com", STRONG_PASSWORD)
    manager.abort()
    session.close()
    with db(wsgi_app) as check:
        assert check.scalars(select(Account.email)).all() == []
