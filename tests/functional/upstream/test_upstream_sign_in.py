"""Signing in with another provider, against another instance of this app run as the
upstream OpenID Connect provider: someone new gets an account after confirming it, a
linked account signs in, an address that has an account here is linked only once its
owner proves it (the takeover by address fails), the local second factor is still
asked, and every failure is a 4xx page that changes nothing."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from app.models import Account, LoginSession, UpstreamIdentity
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    code_at,
    create_account,
    db,
    deliver_mail,
    is_signed_in,
    recorded_events,
    set_up_totp,
    sign_in,
    sign_out,
)
from tests.functional.upstream.instance import NAME, UpstreamInstance, start_upstream
from tests.support import form_by_action

_numbers = itertools.count()


def new_person(upstream: UpstreamInstance, confirmed: bool = True) -> str:
    """An account at the upstream only (each test its own, on the one upstream)."""
    email = f"person{next(_numbers)}@upstream.example"
    upstream.add_account(email, STRONG_PASSWORD, confirmed=confirmed)
    return email


def depart(client: Any) -> str:
    """Press the provider's button on the sign-in page: where the app sends the person."""
    page = client.get("/account/signin")
    answer = form_by_action(page, f"/account/signin/with/{NAME}").submit(status=303)
    return answer.location


def round_trip(
    client: Any, upstream: UpstreamInstance, email: str, password: str = STRONG_PASSWORD
) -> Any:
    """The whole trip: the button, the upstream's sign-in, and the callback here."""
    browser = upstream.browser()
    try:
        callback = browser.authorize(depart(client), email, password)
    finally:
        browser.close()
    parts = urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}", status="*")


def links_of(app: Any, email: str) -> list[UpstreamIdentity]:
    with db(app) as session:
        account = session.scalar(select(Account).where(Account.email == email))
        if account is None:
            return []
        return list(
            session.scalars(
                select(UpstreamIdentity).where(UpstreamIdentity.account_id == account.id)
            )
        )


def test_the_sign_in_page_offers_each_provider_as_a_form_that_posts(app_with_upstream):
    page = new_client(app_with_upstream).get("/account/signin")
    form = form_by_action(page, f"/account/signin/with/{NAME}")
    assert form.method.lower() == "post" and form["csrf_token"].value
    assert page.html.find(id=f"signin-with-{NAME}").get_text(strip=True) == "Sign in with Upstream"


def test_someone_new_confirms_and_gets_an_account_with_no_password(
    app_with_upstream, upstream, smtp_server
):
    email = new_person(upstream)
    client = new_client(app_with_upstream)
    arrived = round_trip(client, upstream, email)
    assert arrived.status_int == 303 and arrived.location.endswith(
        f"/account/signin/with/{NAME}/new"
    )
    page = client.get(arrived.location)
    assert email in page.text and not is_signed_in(client)
    assert links_of(app_with_upstream, email) == []  # nothing made before the confirmation
    done = form_by_action(page, f"/account/signin/with/{NAME}/new").submit(status=303)
    assert urlsplit(done.location).path == "/account"
    assert is_signed_in(client)
    with db(app_with_upstream) as session:
        account = session.scalar(select(Account).where(Account.email == email))
        assert account.password_hash is None and account.email_verified_at is not None
        [login] = session.scalars(select(LoginSession).where(LoginSession.account_id == account.id))
        assert login.sign_in_method == "upstream"
    [link] = links_of(app_with_upstream, email)
    assert link.provider == NAME and link.email == email
    deliver_mail(app_with_upstream)
    assert [m for m in smtp_server.mailbox.to(email) if "Upstream" in m.text and "linked" in m.text]
    # The next time, the link signs in at once.
    sign_out(client)
    again = round_trip(client, upstream, email)
    assert again.status_int == 303 and urlsplit(again.location).path == "/account"
    assert is_signed_in(client)


def test_an_address_with_an_account_here_is_not_linked_without_its_password(
    app_with_upstream, upstream
):
    """The takeover by address: whoever holds an upstream account with the victim's
    address (verified there) gets nothing here without the victim's own password."""
    email = new_person(upstream)
    create_account(app_with_upstream, email, OTHER_PASSWORD)
    attacker = new_client(app_with_upstream)
    arrived = round_trip(attacker, upstream, email)
    assert arrived.location.endswith(f"/account/signin/with/{NAME}/link")
    page = attacker.get(arrived.location)
    assert not is_signed_in(attacker) and links_of(app_with_upstream, email) == []
    form = form_by_action(page, f"/account/signin/with/{NAME}/link")
    form["password"] = STRONG_PASSWORD  # the upstream's password, not this account's
    refused = form.submit(status=400)
    assert "incorrect" in refused.html.find(id="password-error").get_text()
    assert not is_signed_in(attacker) and links_of(app_with_upstream, email) == []
    # Nor does the new-account page make anything for an address that has an account.
    attacker.get(f"/account/signin/with/{NAME}/new", status=400)
    assert links_of(app_with_upstream, email) == []


def test_the_owner_links_by_proving_the_account_then_the_provider_signs_in(
    app_with_upstream, upstream, smtp_server
):
    email = new_person(upstream)
    create_account(app_with_upstream, email, OTHER_PASSWORD)
    client = new_client(app_with_upstream)
    page = client.get(round_trip(client, upstream, email).location)
    form = form_by_action(page, f"/account/signin/with/{NAME}/link")
    form["password"] = OTHER_PASSWORD
    done = form.submit(status=303)
    assert urlsplit(done.location).path == "/account"
    [link] = links_of(app_with_upstream, email)
    assert link.provider == NAME
    assert "Signing in with Upstream is now linked" in client.get("/account").text
    assert [
        e.details["provider"] for e in recorded_events(app_with_upstream, "upstream_linked")
    ] == [NAME]
    sign_out(client)
    assert urlsplit(round_trip(client, upstream, email).location).path == "/account"


def test_the_local_second_factor_is_still_asked(app_with_upstream, upstream, clock):
    email = new_person(upstream)
    create_account(app_with_upstream, email, OTHER_PASSWORD)
    client = new_client(app_with_upstream)
    sign_in(client, email, OTHER_PASSWORD)
    secret, _codes = set_up_totp(client, clock)
    sign_out(client)
    # Linking asks for the password and then the code.
    page = client.get(round_trip(client, upstream, email).location)
    form = form_by_action(page, f"/account/signin/with/{NAME}/link")
    form["password"] = OTHER_PASSWORD
    assert urlsplit(form.submit(status=303).location).path == "/account/signin/two_factor"
    assert links_of(app_with_upstream, email) == []
    clock.advance(seconds=30)
    step = form_by_action(client.get("/account/signin/two_factor"), "/account/signin/two_factor")
    step["code"] = code_at(secret, clock)
    step.submit(status=303)
    assert len(links_of(app_with_upstream, email)) == 1
    sign_out(client)
    # Signing in with the provider: the code is still asked, and recorded with it.
    arrived = round_trip(client, upstream, email)
    assert urlsplit(arrived.location).path == "/account/signin/two_factor"
    assert not is_signed_in(client)
    clock.advance(seconds=30)
    step = form_by_action(client.get("/account/signin/two_factor"), "/account/signin/two_factor")
    step["code"] = code_at(secret, clock)
    step.submit(status=303)
    with db(app_with_upstream) as session:
        methods = session.scalars(select(LoginSession.sign_in_method)).all()
    assert "upstream+totp" in methods


def test_an_address_the_upstream_did_not_verify_finds_and_makes_nothing(
    make_app, app_settings, tmp_path_factory, sqlite_template
):
    instances = start_upstream(
        tmp_path_factory.mktemp("unverified"),
        sqlite_template,
        extra={"accounts.require_verified_email": "false"},
    )
    upstream = next(instances)
    try:
        app = make_app({**app_settings, **upstream.settings()})
        email = new_person(upstream, confirmed=False)
        create_account(app, email, OTHER_PASSWORD)
        other = new_person(upstream, confirmed=False)
        for who in (email, other):
            client = new_client(app)
            refused = round_trip(client, upstream, who)
            assert refused.status_int == 400
            assert "did not confirm your email address" in refused.text
            assert not is_signed_in(client)
        with db(app) as session:
            assert session.scalar(select(Account).where(Account.email == other)) is None
            assert session.scalars(select(UpstreamIdentity)).all() == []
    finally:
        instances.close()
