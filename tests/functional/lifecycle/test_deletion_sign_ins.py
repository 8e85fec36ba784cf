"""docs/security.md 71: during the grace period nothing signs in, whatever the way: a
passkey and another provider (here a stand-in for GitHub) are told the account is being
deleted, a password reset sends no link, a registration with the address makes no second
account, and an application's refresh token dies with the session it came from (the
application is told through the back channel). The restore link brings every way back,
but not the sessions and tokens the deletion ended."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from joserfc import jwt
from sqlalchemy import func, select

from app.models import Account, UpstreamIdentity
from app.operations.backchannel_logouts import LogoutSender
from app.services.kernel import audit as events
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    create_account,
    db,
    deliver_mail,
    forgot_password,
    is_signed_in,
    open_link,
    recorded_events,
    register,
    sign_in,
)
from tests.functional.oidc_flows import (
    BACKCHANNEL_URI,
    Pkce,
    authorize_url,
    decode,
    exchange,
    jwks,
    refresh,
    register_client,
    sign_in_and_authorize,
)
from tests.functional.passkey_flows import add_passkey, authenticator, sign_in_with_passkey
from tests.functional.upstream.github_fake import FakeGitHub, GitHubUser
from tests.support import form_by_action

ALICE = "alice@example.com"
OCTO = "octo@example.com"
BEING_DELETED = "This account is being deleted"


def _delete(client) -> None:
    form_by_action(client.get("/account/delete"), "/account/delete").submit(status=303)


def _restore(app, smtp_server, address: str) -> None:
    deliver_mail(app)
    [told] = smtp_server.mailbox.to(address, about="will be deleted")
    browser = new_client(app)
    browser.get(f"/account/restore/{told.link_code}", status=303)
    page = browser.get("/account/restore")
    done = form_by_action(page, "/account/restore").submit(status=303)
    assert "is back" in done.follow().text


def _accounts_with(app, email: str) -> int:
    with db(app) as session:
        return session.scalar(
            select(func.count()).select_from(Account).where(Account.email == email)
        )


def _reset_links(smtp_server, address: str) -> list[str]:
    return [
        m.link_code for m in smtp_server.mailbox.to(address) if "/account/reset_password/" in m.text
    ]


def test_nothing_signs_in_during_the_grace_period_and_the_restore_brings_it_all_back(
    wsgi_app, smtp_server
):
    account_id = create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    owner = new_client(wsgi_app)
    sign_in(owner, ALICE, STRONG_PASSWORD)
    device = authenticator()
    add_passkey(owner, device)
    # A reset link asked for before the deletion...
    forgot_password(new_client(wsgi_app), ALICE)
    deliver_mail(wsgi_app)
    [early_link] = _reset_links(smtp_server, ALICE)

    _delete(owner)
    # ...is spent by it.
    open_link(new_client(wsgi_app), early_link, status=400)

    browser = new_client(wsgi_app)
    refused = sign_in_with_passkey(browser, device, status=400)
    assert BEING_DELETED in refused.json["error"]
    assert not is_signed_in(browser)
    refused = sign_in(browser, ALICE, STRONG_PASSWORD, status=400)
    assert BEING_DELETED in refused.text
    assert not is_signed_in(browser)
    reasons = [e.details.get("reason") for e in recorded_events(wsgi_app, events.SIGN_IN_FAILED)]
    assert reasons.count("deletion_pending") == 2

    # A reset request answers as usual but sends no link.
    assert forgot_password(new_client(wsgi_app), ALICE).status_int == 303
    # Registering the address again answers as usual and makes no second account.
    register(new_client(wsgi_app), ALICE, OTHER_PASSWORD)
    register(new_client(wsgi_app), " Alice@Example.COM ", OTHER_PASSWORD)
    deliver_mail(wsgi_app)
    assert _reset_links(smtp_server, ALICE) == [early_link]
    assert _accounts_with(wsgi_app, ALICE) == 1
    with db(wsgi_app) as session:
        assert session.get(Account, account_id).deletion_requested_at is not None
    sign_in(new_client(wsgi_app), ALICE, OTHER_PASSWORD, status=400)

    _restore(wsgi_app, smtp_server, ALICE)
    sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD)
    again = new_client(wsgi_app)
    sign_in_with_passkey(again, device)
    assert is_signed_in(again)
    # The sessions the deletion ended stay ended.
    assert not is_signed_in(owner)
    forgot_password(new_client(wsgi_app), ALICE)
    deliver_mail(wsgi_app)
    assert len(_reset_links(smtp_server, ALICE)) == 2


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    yield fake
    fake.close()


def _through_github(client: Any, github: FakeGitHub, user: GitHubUser) -> Any:
    github.next_user = user
    page = client.get("/account/signin")
    leave = form_by_action(page, "/account/signin/with/github").submit(status=303)
    approved = httpx.get(leave.location)
    callback = urlsplit(approved.headers["location"])
    return client.get(f"{callback.path}?{callback.query}", status="*")


def test_another_providers_sign_in_is_refused_during_the_grace_period(
    make_app, app_settings, github, smtp_server
):
    app = make_app({**app_settings, **github.settings()})
    octo = GitHubUser(4242, "octo", [{"email": OCTO, "primary": True, "verified": True}])
    owner = new_client(app)
    arrived = _through_github(owner, github, octo)
    page = owner.get(arrived.location)
    form_by_action(page, "/account/signin/with/github/new").submit(status=303)
    assert is_signed_in(owner)
    _delete(owner)
    assert not is_signed_in(owner)

    browser = new_client(app)
    refused = _through_github(browser, github, octo)
    assert refused.status_int == 403
    assert BEING_DELETED in refused.text
    assert not is_signed_in(browser)
    assert _accounts_with(app, OCTO) == 1
    with db(app) as session:
        assert len(session.scalars(select(UpstreamIdentity)).all()) == 1

    _restore(app, smtp_server, OCTO)
    back = _through_github(browser, github, octo)
    assert urlsplit(back.location).path == "/account" and is_signed_in(browser)


def test_an_applications_refresh_token_dies_with_the_deletion(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app)
    browser = new_client(wsgi_app)
    pkce = Pkce.new()
    back = sign_in_and_authorize(browser, shop, ALICE, STRONG_PASSWORD, pkce)
    tokens = exchange(new_client(wsgi_app), shop, back["code"], pkce.verifier).json
    id_token = decode(browser, tokens["id_token"])
    # The token works before the deletion (and is rotated by its use).
    token = refresh(new_client(wsgi_app), shop, tokens["refresh_token"]).json["refresh_token"]

    _delete(browser)
    refused = refresh(new_client(wsgi_app), shop, token, status=400).json
    assert refused["error"] == "invalid_grant"
    # The shop is told, through its back channel, which session ended.
    posted: list[tuple[str, dict[str, str]]] = []
    registry = wsgi_app.registry
    sender = LogoutSender(
        registry["services"],
        registry["dbsession_factory"],
        lambda uri, form: posted.append((uri, form)) or 200,
    )
    assert sender.deliver_due() == 1
    [(uri, form)] = posted
    logout = jwt.decode(form["logout_token"], jwks(browser), algorithms=["RS256", "ES256"])
    assert uri == BACKCHANNEL_URI
    assert (logout.claims["sub"], logout.claims["sid"]) == (id_token["sub"], id_token["sid"])

    # Nor can the shop start again while the account is being deleted.
    again = new_client(wsgi_app)
    asked = again.get(authorize_url(shop, Pkce.new()), status=303)
    form = form_by_action(again.get(asked.location), "/account/signin")
    form["email"], form["password"] = ALICE, STRONG_PASSWORD
    assert BEING_DELETED in form.submit(status=400).text

    # The restore brings the account back, not the token.
    _restore(wsgi_app, smtp_server, ALICE)
    refresh(new_client(wsgi_app), shop, token, status=400)
