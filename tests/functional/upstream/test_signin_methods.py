"""/account/signin_methods: the password, passkeys and linked providers in one list;
linking another provider and unlinking one (each after a recent sign-in, never the last
way in), and re-authenticating with a linked provider (and the second factor's code, if
the account has one)."""

from __future__ import annotations

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
    recorded_events,
    set_up_totp,
    sign_in,
)
from tests.functional.upstream.instance import NAME, UpstreamInstance
from tests.functional.upstream.test_upstream_sign_in import new_person, round_trip
from tests.support import form_by_action

METHODS = "/account/signin_methods"


def follow(client: Any, upstream: UpstreamInstance, location: str, email: str) -> Any:
    """From a departure to the upstream, back to the callback here."""
    browser = upstream.browser()
    try:
        callback = urlsplit(browser.authorize(location, email, STRONG_PASSWORD))
    finally:
        browser.close()
    return client.get(f"{callback.path}?{callback.query}", status="*")


def upstream_only_account(app: Any, upstream: UpstreamInstance) -> tuple[Any, str]:
    """Someone who came from the upstream: an account with no password, signed in."""
    email = new_person(upstream)
    client = new_client(app)
    page = client.get(round_trip(client, upstream, email).location)
    form_by_action(page, f"/account/signin/with/{NAME}/new").submit(status=303)
    return client, email


def links(app: Any, email: str) -> list[UpstreamIdentity]:
    with db(app) as session:
        account = session.scalar(select(Account).where(Account.email == email))
        return list(
            session.scalars(
                select(UpstreamIdentity).where(UpstreamIdentity.account_id == account.id)
            )
        )


def test_the_page_lists_every_way_in(app_with_upstream, upstream):
    client, email = upstream_only_account(app_with_upstream, upstream)
    page = client.get(METHODS)
    assert "has no password yet" in page.text
    [link] = links(app_with_upstream, email)
    row = page.html.find(id=f"link-{link.id}")
    assert "Upstream" in row.text and email in row.text
    assert page.html.find(id=f"link-{NAME}") is None  # linked already: not offered again


def test_a_signed_in_owner_links_the_provider_and_signs_in_with_it_next_time(
    app_with_upstream, upstream, smtp_server
):
    email = new_person(upstream)
    create_account(app_with_upstream, "owner@example.com", OTHER_PASSWORD)
    client = new_client(app_with_upstream)
    sign_in(client, "owner@example.com", OTHER_PASSWORD)
    page = client.get(METHODS)
    leave = form_by_action(page, f"{METHODS}/link/{NAME}").submit(status=303)
    back = follow(client, upstream, leave.location, email)
    assert back.status_int == 303 and urlsplit(back.location).path == METHODS
    assert "now linked" in client.get(METHODS).text
    [link] = links(app_with_upstream, "owner@example.com")
    assert link.email == email  # the address there may differ from the one here
    deliver_mail(app_with_upstream)
    assert smtp_server.mailbox.to("owner@example.com")
    other = new_client(app_with_upstream)
    assert urlsplit(round_trip(other, upstream, email).location).path == "/account"


def test_a_provider_account_linked_to_someone_else_is_not_linked_again(app_with_upstream, upstream):
    _first, email = upstream_only_account(app_with_upstream, upstream)
    create_account(app_with_upstream, "second@example.com", OTHER_PASSWORD)
    client = new_client(app_with_upstream)
    sign_in(client, "second@example.com", OTHER_PASSWORD)
    leave = form_by_action(client.get(METHODS), f"{METHODS}/link/{NAME}").submit(status=303)
    refused = follow(client, upstream, leave.location, email)
    assert refused.status_int == 400 and "already linked to another account" in refused.text
    assert links(app_with_upstream, "second@example.com") == []
    assert len(links(app_with_upstream, email)) == 1


def test_a_link_answer_counts_only_in_the_session_that_asked(app_with_upstream, upstream):
    email = new_person(upstream)
    create_account(app_with_upstream, "owner@example.com", OTHER_PASSWORD)
    client = new_client(app_with_upstream)
    sign_in(client, "owner@example.com", OTHER_PASSWORD)
    leave = form_by_action(client.get(METHODS), f"{METHODS}/link/{NAME}").submit(status=303)
    client.post(
        "/account/logout",
        {
            "csrf_token": client.get("/account/signin").html.find("input", {"name": "csrf_token"})[
                "value"
            ]
        },
        status=303,
    )
    refused = follow(client, upstream, leave.location, email)
    assert refused.status_int == 400
    assert links(app_with_upstream, "owner@example.com") == []


def test_the_last_way_in_is_not_unlinked_and_another_way_makes_it_possible(
    app_with_upstream, upstream
):
    client, email = upstream_only_account(app_with_upstream, upstream)
    [link] = links(app_with_upstream, email)
    page = client.get(METHODS)
    form_by_action(page, f"{METHODS}/{link.id}/unlink").submit(status=303)
    assert "only way to sign in" in client.get(METHODS).text
    assert len(links(app_with_upstream, email)) == 1
    # With a password, it goes.
    with db(app_with_upstream) as session, session.begin():
        account = session.scalar(select(Account).where(Account.email == email))
        account.password_hash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
    form_by_action(client.get(METHODS), f"{METHODS}/{link.id}/unlink").submit(status=303)
    assert links(app_with_upstream, email) == []
    assert [
        e.details["provider"] for e in recorded_events(app_with_upstream, "upstream_unlinked")
    ] == [NAME]


def test_linking_and_unlinking_need_a_recent_sign_in(app_with_upstream, upstream, clock):
    client, email = upstream_only_account(app_with_upstream, upstream)
    [link] = links(app_with_upstream, email)
    page = client.get(METHODS)
    clock.advance(minutes=16)
    asked = form_by_action(page, f"{METHODS}/{link.id}/unlink").submit(status=303)
    assert urlsplit(asked.location).path == "/account/reauthenticate"
    assert len(links(app_with_upstream, email)) == 1


def test_an_account_without_a_password_confirms_with_its_provider(
    app_with_upstream, upstream, clock
):
    client, email = upstream_only_account(app_with_upstream, upstream)
    clock.advance(minutes=16)
    page = client.get(f"/account/reauthenticate?came_from={METHODS}")
    leave = form_by_action(page, f"/account/reauthenticate/with/{NAME}").submit(status=303)
    assert "prompt=login" in leave.location and "max_age=0" in leave.location
    back = follow(client, upstream, leave.location, email)
    assert back.status_int == 303 and urlsplit(back.location).path == METHODS
    # Recent again: the unlink is judged on its own rule (the last way in), not sent to
    # re-authenticate.
    [link] = links(app_with_upstream, email)
    done = form_by_action(client.get(METHODS), f"{METHODS}/{link.id}/unlink").submit(status=303)
    assert urlsplit(done.location).path == METHODS
    assert [
        e.details.get("factor") for e in recorded_events(app_with_upstream, "reauthenticated")
    ] == ["upstream"]


def test_an_account_with_a_second_factor_gives_its_code_after_the_provider(
    app_with_upstream, upstream, clock
):
    client, email = upstream_only_account(app_with_upstream, upstream)
    # An authenticator app on the account (set up while the sign-in is recent).
    secret, _codes = set_up_totp(client, clock)
    clock.advance(minutes=16)
    page = client.get(f"/account/reauthenticate?came_from={METHODS}")
    leave = form_by_action(page, f"/account/reauthenticate/with/{NAME}").submit(status=303)
    back = follow(client, upstream, leave.location, email)
    code_page = f"/account/reauthenticate/with/{NAME}/code"
    assert urlsplit(back.location).path == code_page
    form = form_by_action(client.get(code_page), code_page)
    form["code"] = "000000"
    assert "code-error" in form.submit(status=400).text
    clock.advance(seconds=30)
    form = form_by_action(client.get(code_page), code_page)
    form["code"] = code_at(secret, clock)
    done = form.submit(status=303)
    assert urlsplit(done.location).path == METHODS
    with db(app_with_upstream) as session:
        methods = session.scalars(select(LoginSession.sign_in_method)).all()
    assert "upstream+totp" in methods
    # The code page has nothing to finish any more.
    assert urlsplit(client.get(code_page, status=303).location).path == "/account/reauthenticate"


def test_an_account_without_a_password_is_emailed_a_link_to_choose_one(
    app_with_upstream, upstream, smtp_server
):
    client, email = upstream_only_account(app_with_upstream, upstream)
    form_by_action(client.get(METHODS), f"{METHODS}/password").submit(status=303)
    assert "emailed you a link" in client.get(METHODS).text
    deliver_mail(app_with_upstream)
    assert [m for m in smtp_server.mailbox.to(email) if "/account/reset_password/" in m.text]


def test_a_kept_provider_answer_re_authenticates_only_the_account_it_is_linked_to(
    app_with_upstream, upstream, clock
):
    """The answer waits in the session cookie, which is not the one that says who is
    signed in: moved beside another account's sign-in, it confirms nothing."""
    attacker, email = upstream_only_account(app_with_upstream, upstream)
    set_up_totp(attacker, clock)
    create_account(app_with_upstream, "victim@example.com", OTHER_PASSWORD)
    victim = new_client(app_with_upstream)
    sign_in(victim, "victim@example.com", OTHER_PASSWORD)
    # Even with a code of the victim's own authenticator app, the victim's password
    # (the first factor) is not skipped.
    victim_secret, _codes = set_up_totp(victim, clock)
    clock.advance(minutes=16)
    page = attacker.get(f"/account/reauthenticate?came_from={METHODS}")
    leave = form_by_action(page, f"/account/reauthenticate/with/{NAME}").submit(status=303)
    code_page = f"/account/reauthenticate/with/{NAME}/code"
    assert urlsplit(follow(attacker, upstream, leave.location, email).location).path == code_page
    # The attacker's session cookie (holding the answer) beside the victim's sign-in.
    token = attacker.get(code_page).html.find("input", {"name": "csrf_token"})["value"]
    victim.set_cookie("session", attacker.cookies["session"])
    assert urlsplit(victim.get(code_page, status=303).location).path == "/account/reauthenticate"
    clock.advance(seconds=30)
    posted = victim.post(
        code_page, {"csrf_token": token, "code": code_at(victim_secret, clock)}, status=303
    )
    assert urlsplit(posted.location).path == "/account/reauthenticate"
    # The victim's sign-in is still old: a sensitive change still asks to re-authenticate.
    with db(app_with_upstream) as session:
        victim_id = session.scalar(select(Account.id).where(Account.email == "victim@example.com"))
        sessions = session.scalars(
            select(LoginSession).where(LoginSession.account_id == victim_id)
        ).all()
    assert all(s.sign_in_method in ("password", "password+totp") for s in sessions)
    assert recorded_events(app_with_upstream, "reauthenticated") == []


def test_github_is_not_offered_to_re_authenticate(make_app, app_settings):
    from tests.functional.upstream.github_fake import FakeGitHub

    github = FakeGitHub()
    try:
        app = make_app({**app_settings, **github.settings()})
        create_account(app, "owner@example.com", OTHER_PASSWORD)
        client = new_client(app)
        sign_in(client, "owner@example.com", OTHER_PASSWORD)
        with db(app) as session, session.begin():
            account = session.scalar(select(Account).where(Account.email == "owner@example.com"))
            session.add(
                UpstreamIdentity(
                    account_id=account.id,
                    provider="github",
                    subject="1",
                    linked_at=account.created_at,
                )
            )
        page = client.get("/account/reauthenticate")
        assert page.html.find(id="reauthenticate-with-github") is None
        token = page.html.find("input", {"name": "csrf_token"})["value"]
        refused = client.post(
            "/account/reauthenticate/with/github", {"csrf_token": token}, status=303
        )
        assert "github.com" not in refused.location and github.url not in refused.location
    finally:
        github.close()
