"""Every way a sign-in with another provider can fail at the provider or in the
callback ends on a 4xx page that says what happened, with nothing created, linked or
signed in: no request of this browser, a foreign or replayed state, a refusal at the
provider, another issuer's answer, a provider that is down, registration closed, a
disabled account."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sqlalchemy import select

from app.models import Account, UpstreamIdentity
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import db, is_signed_in
from tests.functional.upstream.instance import NAME
from tests.functional.upstream.test_upstream_sign_in import depart, new_person, round_trip
from tests.support import form_by_action, free_port

CALLBACK = f"/account/signin/with/{NAME}/callback"


def state_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["state"][0]


def nothing_made(app: Any) -> bool:
    with db(app) as session:
        return session.scalars(select(UpstreamIdentity)).all() == []


def test_a_callback_this_browser_did_not_ask_for_is_refused(app_with_upstream):
    client = new_client(app_with_upstream)
    page = client.get(f"{CALLBACK}?code=abc&state=xyz", status=400)
    assert "not for a sign-in started in this browser" in page.text
    assert not is_signed_in(client) and nothing_made(app_with_upstream)


def test_a_foreign_state_is_refused_and_spends_the_request(app_with_upstream, upstream):
    email = new_person(upstream)
    client = new_client(app_with_upstream)
    browser = upstream.browser()
    callback = urlsplit(browser.authorize(depart(client), email, STRONG_PASSWORD))
    browser.close()
    params = parse_qs(callback.query)
    forged = urlencode({"code": params["code"][0], "state": "someone-elses-state"})
    client.get(f"{CALLBACK}?{forged}", status=400)
    # The request was spent by the forged answer: the genuine one comes too late.
    client.get(f"{callback.path}?{callback.query}", status=400)
    assert not is_signed_in(client) and nothing_made(app_with_upstream)


def test_an_answer_is_used_once(app_with_upstream, upstream):
    email = new_person(upstream)
    client = new_client(app_with_upstream)
    browser = upstream.browser()
    callback = urlsplit(browser.authorize(depart(client), email, STRONG_PASSWORD))
    browser.close()
    client.get(f"{callback.path}?{callback.query}", status=303)
    again = client.get(f"{callback.path}?{callback.query}", status=400)
    assert "took too long" in again.text


def test_a_refusal_at_the_provider_is_said_and_changes_nothing(app_with_upstream):
    client = new_client(app_with_upstream)
    state = state_of(depart(client))
    query = urlencode({"error": "access_denied", "state": state})
    page = client.get(f"{CALLBACK}?{query}", status=400)
    assert "cancelled at Upstream" in page.text
    assert not is_signed_in(client) and nothing_made(app_with_upstream)


def test_an_answer_naming_another_issuer_is_refused(app_with_upstream):
    client = new_client(app_with_upstream)
    state = state_of(depart(client))
    query = urlencode({"code": "abc", "state": state, "iss": "https://evil.example"})
    page = client.get(f"{CALLBACK}?{query}", status=400)
    assert "could not be verified" in page.text


def test_a_code_the_provider_does_not_know_is_refused(app_with_upstream, upstream):
    client = new_client(app_with_upstream)
    state = state_of(depart(client))
    query = urlencode({"code": "made-up", "state": state, "iss": upstream.issuer})
    page = client.get(f"{CALLBACK}?{query}", status=400)
    assert "could not be verified" in page.text
    assert not is_signed_in(client) and nothing_made(app_with_upstream)


def test_malformed_callbacks_get_a_4xx(app_with_upstream):
    client = new_client(app_with_upstream)
    state = state_of(depart(client))
    for query in (
        urlencode({"state": state}),
        urlencode({"state": state, "code": "x" * 5000}),
        "state=%FF&code=%00",
        urlencode([("state", state), ("state", "other"), ("code", "c")]),
    ):
        assert client.get(f"{CALLBACK}?{query}", status="*").status_int == 400


def test_a_provider_that_is_down_gets_a_clear_page(make_app, app_settings, upstream):
    down = upstream.settings(issuer=f"http://127.0.0.1:{free_port()}")
    app = make_app({**app_settings, **down})
    client = new_client(app)
    page = client.get("/account/signin")

    refused = form_by_action(page, f"/account/signin/with/{NAME}").submit(status=400)
    assert "could not be reached" in refused.text


def test_an_unknown_provider_is_not_found(app_with_upstream):
    client = new_client(app_with_upstream)
    token = client.get("/account/signin").html.find("input", {"name": "csrf_token"})["value"]
    client.post("/account/signin/with/nosuch", {"csrf_token": token}, status=404)
    client.get("/account/signin/with/nosuch/callback?code=a&state=b", status=404)


def test_registration_closed_makes_no_account(make_app, app_settings, upstream):
    app = make_app({**app_settings, **upstream.settings(), "accounts.allow_registration": "false"})
    email = new_person(upstream)
    client = new_client(app)
    refused = round_trip(client, upstream, email)
    assert refused.status_int == 400 and "new ones cannot be created" in refused.text
    # Nor is the confirmation page any way round it.
    client.get(f"/account/signin/with/{NAME}/new", status=400)
    with db(app) as session:
        assert session.scalar(select(Account).where(Account.email == email)) is None


def test_a_disabled_account_does_not_sign_in_with_its_link(app_with_upstream, upstream):
    email = new_person(upstream)
    client = new_client(app_with_upstream)
    page = client.get(round_trip(client, upstream, email).location)

    form_by_action(page, f"/account/signin/with/{NAME}/new").submit(status=303)
    with db(app_with_upstream) as session, session.begin():
        session.scalar(select(Account).where(Account.email == email)).is_disabled = True
    other = new_client(app_with_upstream)
    refused = round_trip(other, upstream, email)
    assert refused.status_int == 403 and "disabled" in refused.text
    assert not is_signed_in(other)


def test_the_confirmation_pages_need_an_answer_of_this_browser(app_with_upstream):
    client = new_client(app_with_upstream)
    client.get(f"/account/signin/with/{NAME}/new", status=400)
    client.get(f"/account/signin/with/{NAME}/link", status=400)
    token = client.get("/account/signin").html.find("input", {"name": "csrf_token"})["value"]
    client.post(f"/account/signin/with/{NAME}/new", {"csrf_token": token}, status=400)
    client.post(
        f"/account/signin/with/{NAME}/link", {"csrf_token": token, "password": "x"}, status=400
    )
    assert nothing_made(app_with_upstream)
