"""docs/security.md 46: passwords known from breaches, checked against a local fake of
the Pwned Passwords range API that speaks its protocol over real HTTP."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.models import Account, AccountEvent
from app.services.kernel import audit as events
from app.services.passwords.breaches import BreachedPasswords
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    change_password,
    choose_password,
    create_account,
    db,
    deliver_mail,
    forgot_password,
    invitation_code,
    open_link,
    register,
    sign_in,
)
from tests.pwned_range_fake import FakeRangeAPI, sha1_hex
from tests.support import form_by_action

ALICE = "alice@example.com"
# Strong by zxcvbn's measure, and "leaked" in the fake.
LEAKED = "velvet hurricane pocket 1999"
LEAKED_MESSAGE = "leaked from other sites"


@pytest.fixture
def range_api() -> Iterator[FakeRangeAPI]:
    fake = FakeRangeAPI().start()
    fake.add(LEAKED)
    yield fake
    fake.stop()


@pytest.fixture
def breach_app(make_app, app_settings, range_api):
    return make_app({**app_settings, "passwords.breach_check_url": range_api.url})


def test_a_leaked_password_is_refused_at_registration_and_a_fresh_one_accepted(breach_app):
    refused = register(new_client(breach_app), ALICE, LEAKED, status=400)
    assert LEAKED_MESSAGE in refused.text
    register(new_client(breach_app), ALICE, STRONG_PASSWORD)


def test_a_leaked_password_is_refused_on_change_and_reset(breach_app, smtp_server):
    create_account(breach_app, ALICE, STRONG_PASSWORD)
    client = new_client(breach_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    assert LEAKED_MESSAGE in change_password(client, STRONG_PASSWORD, LEAKED, 400).text

    stranger = new_client(breach_app)
    forgot_password(stranger, ALICE)
    deliver_mail(breach_app)
    open_link(stranger, smtp_server.mailbox.to(ALICE, about="Reset")[-1].link_code)
    assert LEAKED_MESSAGE in choose_password(stranger, LEAKED, status=400).text
    choose_password(stranger, OTHER_PASSWORD)  # the refusal kept the link usable


def test_a_leaked_password_is_refused_for_an_invitation(breach_app):
    create_account(breach_app, ALICE, None)
    client = new_client(breach_app)
    open_link(client, invitation_code(breach_app, ALICE))
    assert LEAKED_MESSAGE in choose_password(client, LEAKED, status=400).text


def test_the_service_sees_only_five_characters_of_the_hash_and_asks_for_padding(
    breach_app, range_api
):
    register(new_client(breach_app), ALICE, LEAKED, status=400)
    register(new_client(breach_app), ALICE, STRONG_PASSWORD)
    assert len(range_api.requests) == 2
    for request, password in zip(range_api.requests, [LEAKED, STRONG_PASSWORD], strict=True):
        assert re.fullmatch(r"/range/[0-9A-F]{5}", request["path"])
        assert request["path"] == "/range/" + sha1_hex(password)[:5]
        assert request["headers"]["Add-Padding"] == "true"
        sent = str(request)
        assert sha1_hex(password)[5:] not in sent and password not in sent
        assert ALICE not in sent


def test_a_weak_or_short_password_never_reaches_the_service(breach_app, range_api):
    register(new_client(breach_app), ALICE, "password", status=400)
    register(new_client(breach_app), ALICE, "aaaaaaaaaaaaaaaa", status=400)
    assert range_api.requests == []


def test_a_service_that_hangs_costs_at_most_two_seconds_and_refuses_nothing(
    breach_app, range_api, caplog
):
    range_api.mode = "hang"
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        register(new_client(breach_app), ALICE, LEAKED)
    waited = time.monotonic() - started
    assert waited < 2.0 + 1.5  # the 2 s wait, and the rest of a registration
    assert any("Breached-password check skipped" in r.getMessage() for r in caplog.records)
    assert breach_app.registry["services"].breaches.counts.skipped == 1


@pytest.mark.parametrize("fault", ["down", "fail"])
def test_a_service_that_is_down_or_failing_refuses_nothing(breach_app, range_api, fault):
    if fault == "down":
        range_api.stop()
    else:
        range_api.mode = "fail"
    register(new_client(breach_app), ALICE, LEAKED)
    assert breach_app.registry["services"].breaches.counts.skipped == 1


def test_the_client_keeps_its_connection_to_the_service(range_api):
    """Connection reuse: many checks, few connections (counted by the fake's handler
    threads: one per connection)."""
    checker = BreachedPasswords(range_api.url)
    try:
        for i in range(10):
            checker.times_seen(f"password number {i}")
    finally:
        checker.close()
    assert len(range_api.requests) == 10
    assert range_api.connections == 1


# At sign-in: in, but changing the password comes first.


def test_a_sign_in_with_a_leaked_password_leads_to_changing_it_first(breach_app, range_api):
    create_account(breach_app, ALICE, STRONG_PASSWORD)  # not known to be leaked then
    range_api.add(STRONG_PASSWORD)  # and now it is
    client = new_client(breach_app)
    response = sign_in(client, ALICE, STRONG_PASSWORD, came_from="/account/sessions")
    assert urlsplit(response.location).path == "/account/sessions"
    for page in ("/account/sessions", "/account", "/account/two_factor"):
        sent = client.get(page, status=303)
        assert urlsplit(sent.location).path == "/account/change_password"
    page = client.get("/account/change_password")
    assert "Your password has been leaked" in page.html.find(role="alert").text
    with db(breach_app) as session:
        (event,) = session.scalars(
            select(AccountEvent).where(AccountEvent.kind == events.PASSWORD_BREACHED)
        )
    assert event.account_id is not None

    assert LEAKED_MESSAGE in change_password(client, STRONG_PASSWORD, LEAKED, 400).text
    change_password(client, STRONG_PASSWORD, OTHER_PASSWORD)
    client.get("/account", status=200)
    with db(breach_app) as session:
        assert session.scalars(select(Account.password_breached_at)).one() is None


def test_signing_out_is_still_possible_with_a_leaked_password(breach_app, range_api):
    create_account(breach_app, ALICE, STRONG_PASSWORD)
    range_api.add(STRONG_PASSWORD)
    client = new_client(breach_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    page = client.get("/account/change_password")
    form_by_action(page, "/account/logout").submit(status=303)
    assert client.get("/account", status=303).location.endswith(
        "/account/signin?came_from=%2Faccount"
    )


def test_without_the_setting_nothing_is_asked(make_app, app_settings, range_api):
    wsgi_app = make_app(app_settings)
    register(new_client(wsgi_app), ALICE, LEAKED)
    assert range_api.requests == []
