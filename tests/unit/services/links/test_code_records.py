"""One-time codes: the events a refused or spent code leaves, the codes a reset or
invitation spends, and the reads a check costs (each test runs on SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.models import Account, LoginSession, OneTimeCode
from app.services.composition import Services
from app.services.kernel import audit as events
from app.services.kernel.errors import CodeUnknown, CodeUsed, PasswordRejected
from app.services.links.one_time_codes import MAX_CODE_LENGTH
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD
from tests.factories import EMAIL
from tests.support import FakeClock
from tests.support.records import recorded


@pytest.fixture
def selects(dbsession: Session) -> Iterator[list[str]]:
    """The SELECT statements sent on the test's connection from now on."""
    engine = dbsession.get_bind()
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    yield seen
    event.remove(engine, "before_cursor_execute", note)


def test_a_reset_and_an_invitation_each_record_their_own_event(
    services: Services, alice: Account, dbsession: Session
) -> None:
    invited = services.accounts.create_account("new@example.com", None)
    reset = services.accounts.create_reset_code(EMAIL, None)
    invitation = services.accounts.create_reset_code("new@example.com", None, "invite")
    assert reset is not None and invitation is not None

    services.accounts.reset_password(reset, OTHER_PASSWORD)
    services.accounts.reset_password(invitation, STRONG_PASSWORD)

    assert [e for e in recorded(dbsession) if e[0] != events.SIGN_IN] == [
        (events.RESET_DONE, alice.id, {}),
        (events.INVITATION_ACCEPTED, invited.id, {}),
    ]


def test_the_password_chosen_with_a_link_may_not_be_the_address(
    services: Services, alice: Account
) -> None:
    code = services.accounts.create_reset_code(EMAIL, None)
    assert code is not None

    with pytest.raises(PasswordRejected, match="Do not use your email address"):
        services.accounts.reset_password(code, EMAIL)


def test_a_code_used_once_is_recorded_against_its_account_when_shown_again(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    code = services.accounts.create_reset_code(EMAIL, None)
    assert code is not None
    record = services.accounts.check_reset_code(code)
    services.codes.spend(record, None)

    with pytest.raises(CodeUsed):
        services.codes.spend(record, None)
    assert recorded(dbsession) == [(events.CODE_USED, alice.id, {"purpose": "reset"})]

    with pytest.raises(CodeUsed):
        services.accounts.check_reset_code(code)
    assert recorded(dbsession) == [(events.CODE_USED, alice.id, {"purpose": "reset", "repeats": 1})]


def test_spending_open_codes_leaves_a_used_code_as_it_was(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    used = services.accounts.create_reset_code(EMAIL, None)
    services.accounts.create_reset_code(EMAIL, None)
    assert used is not None
    services.accounts.use_reset_code(used, None)
    used_at = clock.now()
    clock.advance(minutes=5)

    assert services.accounts.spend_open_codes(alice.id) == 1

    dbsession.expire_all()
    stamps = sorted(dbsession.scalars(select(OneTimeCode.used_at)))
    assert stamps == [used_at, clock.now()]


def test_ending_every_session_leaves_one_already_ended_as_it_was(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    _, ended = services.login_sessions.start(alice, None, None)
    services.login_sessions.start(alice, None, None)
    services.login_sessions.revoke(ended)
    ended_at = clock.now()
    clock.advance(minutes=5)

    assert services.login_sessions.revoke_all(alice.id) == 1

    dbsession.expire_all()
    assert sorted(dbsession.scalars(select(LoginSession.revoked_at))) == [ended_at, clock.now()]


def test_a_code_checked_twice_in_one_request_is_read_once(
    services: Services, alice: Account, selects: list[str]
) -> None:
    code = services.accounts.create_reset_code(EMAIL, None)
    assert code is not None
    selects.clear()

    first = services.accounts.check_reset_code(code)
    reads = len(selects)
    again = services.accounts.check_reset_code(code)

    assert again is first
    assert len(selects) == reads


@pytest.mark.parametrize(
    ("length", "looked_up"), [(MAX_CODE_LENGTH, True), (MAX_CODE_LENGTH + 1, False)]
)
def test_a_code_longer_than_any_of_ours_is_refused_without_a_lookup(
    services: Services, selects: list[str], length: int, looked_up: bool
) -> None:
    with pytest.raises(CodeUnknown):
        services.accounts.check_reset_code("c" * length)

    assert any("one_time_codes" in s for s in selects) is looked_up


@pytest.mark.parametrize(
    ("length", "looked_up"), [(MAX_CODE_LENGTH, True), (MAX_CODE_LENGTH + 1, False)]
)
def test_opening_a_link_with_an_overlong_code_makes_no_lookup(
    services: Services, selects: list[str], length: int, looked_up: bool
) -> None:
    with pytest.raises(CodeUnknown):
        services.accounts.check_reset_link("c" * length)

    assert any("one_time_codes" in s for s in selects) is looked_up


def test_opening_a_link_that_cannot_be_used_is_recorded_with_what_is_known_of_it(
    services: Services, alice: Account, dbsession: Session
) -> None:
    code = services.accounts.create_reset_code(EMAIL, None)
    assert code is not None
    services.accounts.use_reset_code(code, None)
    dbsession.commit()

    with pytest.raises(CodeUsed):
        services.accounts.check_reset_link(code)
    with pytest.raises(CodeUnknown):
        services.accounts.check_reset_link("no-such-code")

    assert recorded(dbsession) == [
        (events.CODE_USED, alice.id, {"purpose": "reset"}),
        (events.CODE_UNKNOWN, None, {}),
    ]
