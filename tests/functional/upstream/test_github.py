"""Signing in with GitHub, against a local stand-in that speaks its OAuth web flow and
API: the person is GitHub's numeric user id, the address its primary one only when
GitHub marks it verified; the client's secret and the PKCE verifier go to the token
endpoint; GitHub's errors (given with a 200) are refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from app.models import Account, UpstreamIdentity
from tests.conftest import new_client
from tests.functional.flows import db, is_signed_in
from tests.functional.upstream.github_fake import FakeGitHub, GitHubUser
from tests.support import form_by_action


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    yield fake
    fake.close()


@pytest.fixture
def app(make_app: Any, app_settings: dict[str, Any], github: FakeGitHub) -> Any:
    return make_app({**app_settings, **github.settings()})


def through_github(client: Any, github: FakeGitHub, user: GitHubUser) -> Any:
    github.next_user = user
    page = client.get("/account/signin")
    leave = form_by_action(page, "/account/signin/with/github").submit(status=303)
    assert leave.location.startswith(f"{github.url}/login/oauth/authorize?")
    approved = httpx.get(leave.location)
    callback = urlsplit(approved.headers["location"])
    return client.get(f"{callback.path}?{callback.query}", status="*")


def test_someone_new_from_github_gets_an_account_linked_to_their_user_id(app, github):
    user = GitHubUser(
        4242,
        "octo",
        [
            {"email": "old@example.com", "primary": False, "verified": True},
            {"email": "octo@example.com", "primary": True, "verified": True},
        ],
    )
    client = new_client(app)
    arrived = through_github(client, github, user)
    assert arrived.location.endswith("/account/signin/with/github/new")
    page = client.get(arrived.location)
    assert "octo@example.com" in page.text
    form_by_action(page, "/account/signin/with/github/new").submit(status=303)
    assert is_signed_in(client)
    with db(app) as session:
        [link] = session.scalars(select(UpstreamIdentity)).all()
        assert (link.provider, link.subject, link.email) == ("github", "4242", "octo@example.com")
    # The user id signs in, whatever the address is by then.
    other = new_client(app)
    user.emails = [{"email": "new@example.com", "primary": True, "verified": True}]
    again = through_github(other, github, user)
    assert urlsplit(again.location).path == "/account" and is_signed_in(other)


def test_an_unverified_primary_address_finds_and_makes_nothing(app, github):
    user = GitHubUser(
        7,
        "sneaky",
        [
            {"email": "victim@example.com", "primary": True, "verified": False},
            {"email": "sneaky@example.com", "primary": False, "verified": True},
        ],
    )
    client = new_client(app)
    refused = through_github(client, github, user)
    assert refused.status_int == 400
    assert "GitHub did not confirm your email address" in refused.text
    with db(app) as session:
        assert session.scalars(select(Account)).all() == []


def test_a_wrong_client_secret_is_a_refusal_not_an_error(make_app, app_settings, github):
    settings = {**github.settings(), "signin.provider.github.client_secret": "wrong"}
    app = make_app({**app_settings, **settings})
    user = GitHubUser(1, "a", [{"email": "a@example.com", "primary": True, "verified": True}])
    refused = through_github(new_client(app), github, user)
    assert refused.status_int == 400 and "could not be verified" in refused.text


def test_github_down_after_the_code_gets_a_clear_page(app, github):
    user = GitHubUser(1, "a", [{"email": "a@example.com", "primary": True, "verified": True}])
    client = new_client(app)
    github.next_user = user
    page = client.get("/account/signin")
    leave = form_by_action(page, "/account/signin/with/github").submit(status=303)
    callback = urlsplit(httpx.get(leave.location).headers["location"])
    github.close()
    refused = client.get(f"{callback.path}?{callback.query}", status=400)
    assert "could not be reached" in refused.text
