"""With Pyramid's pyramid.debug_authorization on, the log says why each request was let
in or not: the reason the security policy gives, which is what an operator reads when
someone is refused a page."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import update

from app.models import Account

from ..conftest import STRONG_PASSWORD, new_client
from .flows import create_account, db, sign_in

ALICE = "alice@example.com"


@pytest.fixture
def debug_app(make_app, app_settings):
    return make_app({**app_settings, "pyramid.debug_authorization": "true"})


def _reason(client, caplog, url: str) -> str:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="app"):
        client.get(url, status="*")
    [logged] = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith("debug_authorization")
    ]
    return logged.rsplit("): ", 1)[1]


def test_the_debug_log_says_why_a_page_is_allowed_or_refused(debug_app, caplog, clock):
    account_id = create_account(debug_app, ALICE, STRONG_PASSWORD)
    client = new_client(debug_app)
    assert _reason(client, caplog, "/account") == "not signed in"

    sign_in(client, ALICE, STRONG_PASSWORD)
    assert _reason(client, caplog, "/account") == "signed in"
    assert _reason(client, caplog, "/account/change_email") == "signed in recently"
    assert _reason(client, caplog, "/admin/accounts") == "administrators only"

    clock.advance(minutes=16)  # the password is asked again after 15
    assert _reason(client, caplog, "/account/change_email") == "signed in too long ago for this"

    with db(debug_app) as session, session.begin():
        session.execute(
            update(Account).where(Account.id == account_id).values(password_breached_at=clock.now())
        )
    assert _reason(client, caplog, "/account") == "the password is known from a breach"
