"""docs/security.md 71, when requests overlap: every race between a deletion and a
sign-in, a restore and the erasure, or two restores ends in one state, never half.

Each race is played in one order on purpose: the first party does its work in an open
transaction, the second starts in a thread (with a session, so a connection, of its
own) and must wait for the first to commit; then the first commits and the second ends.
On PostgreSQL the second waits for the row lock of the account, on SQLite for the
database's write lock. The thread gets a short while to finish on its own: a second
party that did not wait shows as a thread that ended, and as the half state it leaves."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.models import PURPOSE_RESTORE, Account, LoginSession, OneTimeCode
from app.models.login_sessions import APP_SESSION
from app.services.composition import ServiceFactory
from app.services.kernel import audit as events
from app.services.kernel.audit import RequestOrigin
from app.services.kernel.errors import CodeExpired, CodeInvalid, CodeUsed
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import (
    create_account,
    db,
    deliver_mail,
    recorded_events,
    services,
    sign_in,
)
from tests.support import FakeClock, form_by_action

ALICE = "alice@example.com"
GRACE = timedelta(days=7)
# How long the second party is given to finish without waiting for the first.
SHORT_WAIT = 0.5
# A statement that reads or writes the accounts table.
ON_ACCOUNTS = re.compile(r"\b(FROM|UPDATE|INTO) accounts\b", re.I)


class Second:
    """The second party of a race: `work` in a thread of its own, given SHORT_WAIT to
    finish before the first party goes on. Its result, or the exception it raised."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.work = work
        self.result: Any = None
        self.error: BaseException | None = None
        self.waited = False
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            self.result = self.work()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def start(self) -> None:
        self.thread.start()
        self.thread.join(SHORT_WAIT)
        self.waited = self.thread.is_alive()

    def end(self) -> None:
        self.thread.join(30)
        assert not self.thread.is_alive(), "the second party never finished"


@contextmanager
def after_first_statement_on_accounts(session: Session, then: Callable[[], None]) -> Iterator[list]:
    """Call `then` once, right after the session's first statement on the accounts
    table (whatever the party does first there: it has begun)."""
    connection = session.connection()
    fired: list[str] = []

    def hook(conn, cursor, statement, *args) -> None:
        if not fired and ON_ACCOUNTS.search(statement):
            fired.append(statement)
            then()

    event.listen(connection, "after_cursor_execute", hook)
    try:
        yield fired
    finally:
        event.remove(connection, "after_cursor_execute", hook)


def _in_own_session(app, work: Callable[[Any], Any], factory: ServiceFactory | None = None):
    """`work(services)` in a transaction of its own, committed if it returns."""

    def run() -> Any:
        with app.registry["dbsession_factory"]() as session, session.begin():
            made = factory.services(session, RequestOrigin()) if factory else None
            return work(made or services(app, session))

    return run


def _account(app, account_id: int) -> Account | None:
    with db(app) as session:
        return session.get(Account, account_id)


def _live_sessions(app) -> int:
    with db(app) as session:
        return session.scalar(
            select(func.count()).select_from(LoginSession).where(LoginSession.revoked_at.is_(None))
        )


# A deletion and a sign-in


def _ask_deletion(found, account_id: int) -> Any:
    return found.account_deletion.request(found.accounts.find_account_by_id(account_id))


def test_a_sign_in_that_checked_the_password_while_the_deletion_commits_gets_no_session(
    wsgi_app,
):
    account_id = create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    factory = wsgi_app.registry["dbsession_factory"]
    with factory() as signing_in, signing_in.begin():
        authentication = services(wsgi_app, signing_in).authentication
        checked = authentication.get_authenticated_account(ALICE, STRONG_PASSWORD)
        assert checked is not None
        # The owner deletes the account meanwhile; the sign-in comes to count itself
        # while the deletion is not committed yet.
        sign_in_counts = Second(lambda: authentication.record_sign_in(checked, "password"))
        with factory() as deleting, deleting.begin():
            _ask_deletion(services(wsgi_app, deleting), account_id)
            sign_in_counts.start()
        sign_in_counts.end()
        assert sign_in_counts.waited
        assert sign_in_counts.result is False
    account = _account(wsgi_app, account_id)
    assert account.deletion_requested_at is not None
    assert account.login_count == 0
    assert _live_sessions(wsgi_app) == 0
    assert recorded_events(wsgi_app, events.SIGN_IN) == []


def test_a_sign_in_that_completes_before_the_deletion_has_its_session_ended(wsgi_app):
    account_id = create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    deletion = Second(_in_own_session(wsgi_app, lambda found: _ask_deletion(found, account_id)))
    with wsgi_app.registry["dbsession_factory"]() as signing_in, signing_in.begin():
        signed_in = services(wsgi_app, signing_in).signin.with_password(
            ALICE, STRONG_PASSWORD, kind=APP_SESSION
        )
        # The owner deletes the account from another device while this sign-in has
        # been counted and its session started, not yet committed.
        deletion.start()
    deletion.end()
    assert deletion.waited and deletion.error is None
    assert deletion.result is not None  # when it will be erased
    assert _account(wsgi_app, account_id).login_count == 1
    assert _live_sessions(wsgi_app) == 0
    app_session = new_client(wsgi_app).get(
        "/api/v1/session", headers={"Authorization": f"Bearer {signed_in.session_token}"}
    )
    assert app_session.json["signed_in"] is False


# A restore and the erasure


@pytest.fixture
def deleted(wsgi_app, smtp_server, clock):
    """Alice's account, deleted: (its id, the code of its restore link)."""
    account_id = create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    with db(wsgi_app) as session, session.begin():
        _ask_deletion(services(wsgi_app, session), account_id)
    deliver_mail(wsgi_app)
    [told] = smtp_server.mailbox.to(ALICE, about="will be deleted")
    return account_id, told.link_code


@pytest.fixture
def at_the_deadline(wsgi_app, clock, hasher) -> ServiceFactory:
    """The moment the grace period ends: the housekeeping (the app's clock) runs a
    minute after it, and the owner's restore (these services) started a minute before,
    while its link was still good."""
    owner_clock = FakeClock(clock.now() + GRACE - timedelta(minutes=1))
    clock.advance(days=GRACE.days, minutes=1)
    return ServiceFactory(wsgi_app.registry["app_settings"], clock=owner_clock, hasher=hasher)


def _restore(code: str) -> Callable[[Any], Any]:
    return lambda found: found.account_deletion.restore(code)


def _assert_one_state(
    app, account_id: int, restore_error: BaseException | None, erased: bool
) -> None:
    """Either the account is back and was not erased, or it was erased and the restore
    was told its link is dead; nothing of both."""
    account = _account(app, account_id)
    restored = recorded_events(app, events.ACCOUNT_RESTORED)
    gone = recorded_events(app, events.ACCOUNT_ERASED)
    if restore_error is None:
        assert not erased and gone == []
        assert account is not None and account.deletion_requested_at is None
        assert len(restored) == 1
    else:
        assert isinstance(restore_error, CodeInvalid)
        assert erased and account is None and len(gone) == 1
        assert restored == []


def test_a_restore_that_comes_once_the_erasure_has_begun_finds_the_link_expired(
    wsgi_app, deleted, at_the_deadline
):
    account_id, code = deleted
    restore = Second(_in_own_session(wsgi_app, _restore(code), at_the_deadline))
    with wsgi_app.registry["dbsession_factory"]() as erasing, erasing.begin():
        erasure = services(wsgi_app, erasing).account_deletion
        with after_first_statement_on_accounts(erasing, restore.start) as fired:
            erased = erasure.erase(account_id, due_only=True)
        assert fired
    restore.end()
    _assert_one_state(wsgi_app, account_id, restore.error, erased)
    assert restore.waited
    assert isinstance(restore.error, CodeExpired)


def test_an_erasure_that_comes_while_the_restore_commits_finds_the_account_back(
    wsgi_app, deleted, at_the_deadline
):
    account_id, code = deleted
    erasure = Second(
        _in_own_session(
            wsgi_app, lambda found: found.account_deletion.erase(account_id, due_only=True)
        )
    )
    with wsgi_app.registry["dbsession_factory"]() as restoring, restoring.begin():
        at_the_deadline.services(restoring, RequestOrigin()).account_deletion.restore(code)
        erasure.start()
    erasure.end()
    assert erasure.error is None
    _assert_one_state(wsgi_app, account_id, None, erasure.result)
    assert erasure.waited
    assert wsgi_app.registry["account_erasure"].run() == 0
    sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD)


# Two restores with the same link


def test_of_two_restores_with_one_link_one_wins_and_the_other_finds_it_used(
    wsgi_app, deleted, clock
):
    account_id, code = deleted
    clock.advance(days=3)
    second = Second(_in_own_session(wsgi_app, _restore(code)))
    with wsgi_app.registry["dbsession_factory"]() as restoring, restoring.begin():
        first = services(wsgi_app, restoring).account_deletion.restore(code)
        second.start()
    second.end()
    assert first.id == account_id
    assert second.waited
    assert isinstance(second.error, CodeUsed)
    assert _account(wsgi_app, account_id).deletion_requested_at is None
    assert len(recorded_events(wsgi_app, events.ACCOUNT_RESTORED)) == 1
    with db(wsgi_app) as session:
        link = session.scalars(
            select(OneTimeCode).where(OneTimeCode.purpose == PURPOSE_RESTORE)
        ).one()
    assert link.used_at is not None


def test_two_browsers_restoring_at_once_get_one_account_back_and_one_used_link(wsgi_app, deleted):
    account_id, code = deleted
    forms = []
    for _ in range(2):
        browser = new_client(wsgi_app)
        browser.get(f"/account/restore/{code}", status=303)
        forms.append(form_by_action(browser.get("/account/restore"), "/account/restore"))
    start = threading.Barrier(len(forms))
    answers: list[Any] = []

    def submit(form) -> None:
        start.wait()
        answers.append(form.submit(status="*"))

    threads = [threading.Thread(target=submit, args=(form,)) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(answer.status_int for answer in answers) == [303, 400]
    [lost] = [answer for answer in answers if answer.status_int == 400]
    assert "used" in lost.text
    assert _account(wsgi_app, account_id).deletion_requested_at is None
    assert len(recorded_events(wsgi_app, events.ACCOUNT_RESTORED)) == 1
    sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD)
