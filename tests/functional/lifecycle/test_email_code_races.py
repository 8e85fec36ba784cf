"""docs/security.md 73 under races (PostgreSQL for real concurrency): each try at an
emailed sign-in code is counted before the code is compared, so of many tries at once
no more than three are compared; and of two requests with the right code, one signs in."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.models import OneTimeCode
from app.services.kernel.lifecycle_errors import SignInCodeInvalid
from app.services.signin.email_codes import CodeRequest
from tests.conftest import STRONG_PASSWORD
from tests.functional.flows import create_account, db, recorded_events, services
from tests.functional.lifecycle.test_email_code_sign_in import OWNER, emailed_code

PARALLEL = 8


def _ask(app) -> CodeRequest:
    with db(app) as session, session.begin():
        return services(app, session).email_codes.send(OWNER)


def _at_once(app, asked: CodeRequest, typed: list[str]) -> list[object]:
    """Each code typed in its own transaction, all let go together: what each got."""
    start = threading.Barrier(len(typed))
    results: list[object] = [None] * len(typed)

    def attempt(index: int) -> None:
        with db(app) as session:
            start.wait()
            # As a page does: a refused code is an answer, and the try it counted stays.
            with session.begin():
                try:
                    account = services(app, session).email_codes.verify(asked, typed[index])
                    results[index] = account.id
                except SignInCodeInvalid as exc:
                    results[index] = type(exc)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(len(typed))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.fixture
def app(make_app, app_settings):
    # The per-client limit on bad codes is not what is tested here.
    return make_app({**app_settings, "ratelimit.bad_code_per_ip": "1000/minute"})


def test_wrong_tries_at_once_count_no_more_than_three(app, smtp_server):
    create_account(app, OWNER, STRONG_PASSWORD)
    asked = _ask(app)
    code = emailed_code(app, smtp_server)
    wrong = "0000-0000" if code != "0000-0000" else "1111-1111"
    results = _at_once(app, asked, [wrong] * PARALLEL)
    assert results == [SignInCodeInvalid] * PARALLEL
    # Three tries were counted and compared; every other one found the code out of tries
    # before any comparison, and so does the right code now.
    with db(app) as session:
        assert session.scalars(select(OneTimeCode.attempts)).all() == [3]
    assert len(recorded_events(app, "sign_in_code_failed")) == 3
    assert _at_once(app, asked, [code]) == [SignInCodeInvalid]


def test_the_right_code_twice_at_once_signs_in_once(app, smtp_server):
    account_id = create_account(app, OWNER, STRONG_PASSWORD)
    asked = _ask(app)
    code = emailed_code(app, smtp_server)
    results = _at_once(app, asked, [code, code])
    assert sorted(map(str, results)) == sorted(map(str, [account_id, SignInCodeInvalid]))
