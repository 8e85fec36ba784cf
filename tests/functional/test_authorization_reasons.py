"""With Pyramid's pyramid.debug_authorization on, the log says why each request was let
in or not: the reason the security policy gives, which is what an operator reads when
someone is refused a page."""

from __future__ import annotations

import logging

import pytest
from pyramid.config import Configurator
from pyramid.response import Response
from sqlalchemy import update

from app.models import Account
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, sign_in

ALICE = "alice@example.com"
ROOT = "root@example.com"


@pytest.fixture
def debug_app(make_app, app_settings):
    return make_app({**app_settings, "pyramid.debug_authorization": "true"})


def _signed_in_admin(wsgi_app, email: str = ROOT):
    root_id = create_account(wsgi_app, email, STRONG_PASSWORD)
    with db(wsgi_app) as session, session.begin():
        session.get(Account, root_id).is_admin = True
    client = new_client(wsgi_app)
    sign_in(client, email, STRONG_PASSWORD)
    return client, root_id


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


def test_the_debug_log_says_why_an_administrator_is_allowed_or_refused(
    debug_app, make_app, app_settings, caplog, clock
):
    client, root_id = _signed_in_admin(debug_app)
    action = f"/admin/accounts/{root_id}/disable"
    assert _reason(client, caplog, "/admin/accounts") == "administrator"
    assert _reason(client, caplog, action) == "administrator, recently signed in"
    clock.advance(minutes=16)
    assert _reason(client, caplog, action) == "signed in too long ago for this"

    strict = make_app(
        {
            **app_settings,
            "pyramid.debug_authorization": "true",
            "accounts.require_two_factor_for_admins": "true",
        }
    )
    # The same database: another administrator, who has no second factor either.
    client, _ = _signed_in_admin(strict, "second-root@example.com")
    assert _reason(client, caplog, "/admin/accounts") == "administrators must have a second factor"


def test_a_view_with_an_unknown_permission_is_refused_and_the_log_names_it(debug_app, caplog):
    config = Configurator(registry=debug_app.registry)
    config.add_route("misconfigured", "/misconfigured")
    config.add_view(lambda request: Response("secret"), route_name="misconfigured", permission="x")
    config.commit()
    create_account(debug_app, ALICE, STRONG_PASSWORD)
    client = new_client(debug_app)
    sign_in(client, ALICE, STRONG_PASSWORD)

    assert _reason(client, caplog, "/misconfigured") == "unknown permission 'x'"
    assert client.get("/misconfigured", status="*").status_int == 403
