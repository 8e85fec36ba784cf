"""Passkeys (docs/security.md 43): adding one, signing in with it alone, as the second
factor and to confirm it is you; and every way a ceremony can be refused, each with a
4xx and an event, never a 500."""

from __future__ import annotations

from urllib.parse import urlsplit

import cryptography.fernet
import pytest
from sqlalchemy import func, select

from app.models import Account, LoginSession, SpentChallenge, WebAuthnCredential
from app.services.kernel import audit as events
from tests.conftest import BASE_URL, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    create_account,
    db,
    deliver_mail,
    is_signed_in,
    recorded_events,
    set_up_totp,
    sign_in,
)
from tests.functional.passkey_flows import (
    add_passkey,
    answer,
    authenticator,
    second_step_with_passkey,
    sign_in_with_passkey,
    start,
)
from tests.passkey_authenticator import NotAllowed, b64url
from tests.support import UNLIMITED_RATES, form_by_action

ALICE = "alice@example.com"


@pytest.fixture
def alice(wsgi_app):
    """Alice, signed in with her password, with a passkey on her laptop."""
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    device = authenticator()
    added = add_passkey(client, device, name="Laptop")
    assert added.json == {"redirect": BASE_URL + "/account/passkeys"}
    return client, device


def _passkeys(wsgi_app) -> list[WebAuthnCredential]:
    with db(wsgi_app) as session:
        return list(session.scalars(select(WebAuthnCredential)))


# Adding, and signing in with only the passkey


def test_an_added_passkey_is_listed_and_the_owner_is_told(wsgi_app, alice, smtp_server):
    client, _ = alice
    page = client.get("/account/passkeys")
    row = page.html.find("tbody").find("tr")
    assert "Laptop" in row.text and "never" in row.text
    assert "added" in page.html.find(class_="notice-success").text
    (passkey,) = _passkeys(wsgi_app)
    assert passkey.transports == "internal"
    assert len(recorded_events(wsgi_app, events.PASSKEY_ADDED)) == 1
    deliver_mail(wsgi_app)
    (mail,) = [m for m in smtp_server.mailbox.to(ALICE) if "passkey" in m.message["Subject"]]
    assert "Laptop" in mail.text


def test_a_passkey_alone_signs_in_without_an_email_or_a_password(wsgi_app, alice):
    _, device = alice
    browser = new_client(wsgi_app)
    done = sign_in_with_passkey(browser, device, page="/account/signin?came_from=/account/activity")
    assert done.json == {"redirect": BASE_URL + "/account/activity"}
    cookies = " ".join(done.headers.getall("Set-Cookie"))
    assert "auth=" in cookies and "device=" in cookies
    assert is_signed_in(browser)
    (sign_in_event,) = [
        e for e in recorded_events(wsgi_app, events.SIGN_IN) if e.details.get("method") == "passkey"
    ]
    assert sign_in_event.ip is not None
    with db(wsgi_app) as session:
        methods = set(session.scalars(select(LoginSession.sign_in_method)))
        last_used = session.scalars(select(WebAuthnCredential.last_used_at)).one()
    assert "passkey" in methods
    assert last_used is not None


def test_a_synced_passkey_whose_counter_stays_at_zero_keeps_working(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    device = authenticator(counter_step=0)
    add_passkey(client, device)
    for _ in range(3):
        sign_in_with_passkey(new_client(wsgi_app), device)


def test_a_passkey_that_does_not_verify_its_user_cannot_be_added(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    started = start(client, "/account/passkeys", "passkey-add")
    device = authenticator(user_verifying=False)
    answer(client, started, device.create(started.options), status=400)
    assert _passkeys(wsgi_app) == []


def test_the_same_authenticator_cannot_add_a_second_passkey(wsgi_app, alice):
    client, device = alice
    started = start(client, "/account/passkeys", "passkey-add")
    excluded = [c["id"] for c in started.options["excludeCredentials"]]
    assert excluded == [b64url(p.credential_id) for p in _passkeys(wsgi_app)]
    with pytest.raises(NotAllowed, match="InvalidStateError"):
        device.create(started.options)


def test_a_disabled_account_cannot_sign_in_with_its_passkey(wsgi_app, alice):
    _, device = alice
    with db(wsgi_app) as session, session.begin():
        session.scalars(select(Account)).one().is_disabled = True
    browser = new_client(wsgi_app)
    refused = sign_in_with_passkey(browser, device, status=400)
    assert "cannot sign in" in refused.json["error"]
    assert not is_signed_in(browser)


def test_passkey_sign_ins_count_against_the_per_ip_limit(make_app, app_settings):
    wsgi_app = make_app({**app_settings, **UNLIMITED_RATES, "ratelimit.signin_per_ip": "2/minute"})
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app, ip="198.51.100.9")
    sign_in(client, ALICE, STRONG_PASSWORD)
    device = authenticator()
    add_passkey(client, device)
    sign_in_with_passkey(new_client(wsgi_app), device)
    sign_in_with_passkey(new_client(wsgi_app), device)
    limited = sign_in_with_passkey(new_client(wsgi_app), device, status=429)
    assert int(limited.headers["Retry-After"]) > 0
    assert "error" in limited.json


# The second factor, and re-authentication


def test_after_the_password_a_passkey_is_the_second_factor(wsgi_app, alice):
    _, device = alice
    browser = new_client(wsgi_app)
    response = sign_in(browser, ALICE, STRONG_PASSWORD, came_from="/account/sessions")
    assert urlsplit(response.location).path == "/account/signin/two_factor"
    assert not is_signed_in(browser)
    page = browser.get("/account/signin/two_factor")
    # No authenticator app and no recovery codes: the passkey is the only way on.
    assert page.html.find(id="passkey-verify") is not None
    assert page.html.find("input", attrs={"name": "code"}) is None
    done = second_step_with_passkey(browser, device)
    assert done.json == {"redirect": BASE_URL + "/account/sessions"}
    assert is_signed_in(browser)
    with db(wsgi_app) as session:
        assert "password+passkey" in set(session.scalars(select(LoginSession.sign_in_method)))


def test_the_second_step_takes_only_a_passkey_of_that_account(wsgi_app, alice):
    create_account(wsgi_app, "mallory@example.com", STRONG_PASSWORD)
    mallory = new_client(wsgi_app)
    sign_in(mallory, "mallory@example.com", STRONG_PASSWORD)
    malloys_device = authenticator()
    add_passkey(mallory, malloys_device)

    browser = new_client(wsgi_app)
    sign_in(browser, ALICE, STRONG_PASSWORD)
    started = start(browser, "/account/signin/two_factor", "passkey-verify")
    mallorys_answer = malloys_device.get(
        started.options, credential=next(iter(malloys_device.credentials.values()))
    )
    answer(browser, started, mallorys_answer, status=400)
    assert not is_signed_in(browser)
    assert (
        recorded_events(wsgi_app, events.PASSKEY_REFUSED)[-1].details["reason"] == "unknown passkey"
    )


def test_without_a_pending_sign_in_the_second_step_sends_back_to_sign_in(wsgi_app, alice):
    browser = new_client(wsgi_app)
    page = browser.get("/account/signin")
    token = page.html.find(id="passkey-signin")["data-csrf"]
    back = browser.post(
        "/account/signin/two_factor/passkey/options", headers={"X-CSRF-Token": token}
    )
    assert back.json == {"redirect": BASE_URL + "/account/signin"}
    # The sign-in page says why, as an error.
    told = browser.get("/account/signin").html.select(".notice-error[role=alert]")
    assert [n.get_text(" ", strip=True) for n in told] == [
        "⚠ Problem Your sign-in has expired. Sign in again."
    ]


def test_a_passkey_confirms_it_is_you_before_a_sensitive_change(wsgi_app, alice, clock):
    client, device = alice
    clock.advance(minutes=16)
    asked = client.get("/account/change_email", status=303)
    assert urlsplit(asked.location).path == "/account/reauthenticate"
    started = start(client, asked.location, "passkey-reauthenticate")
    assert started.options["userVerification"] == "required"
    done = answer(client, started, device.get(started.options))
    assert done.json == {"redirect": BASE_URL + "/account/change_email"}
    client.get("/account/change_email", status=200)
    assert recorded_events(wsgi_app, events.REAUTHENTICATED)[-1].details == {"factor": "passkey"}


def test_adding_and_removing_a_passkey_need_a_recent_sign_in(wsgi_app, alice, clock):
    client, _ = alice
    clock.advance(minutes=16)
    page = client.get("/account/passkeys")
    token = page.html.find(id="passkey-add")["data-csrf"]
    asked = client.post(
        "/account/passkeys/add/options",
        headers={"X-CSRF-Token": token, "Referer": BASE_URL + "/account/passkeys"},
        status=303,
    )
    assert urlsplit(asked.location).path == "/account/reauthenticate"
    (passkey,) = _passkeys(wsgi_app)
    form_by_action(page, f"/account/passkeys/{passkey.id}/delete").submit(status=303)
    assert len(_passkeys(wsgi_app)) == 1


# Removing, renaming


def test_a_removed_passkey_stops_working_at_once(wsgi_app, alice, smtp_server):
    client, device = alice
    (passkey,) = _passkeys(wsgi_app)
    page = client.get("/account/passkeys")
    form_by_action(page, f"/account/passkeys/{passkey.id}/delete").submit(status=303)
    assert _passkeys(wsgi_app) == []
    browser = new_client(wsgi_app)
    refused = sign_in_with_passkey(browser, device, status=400)
    assert "not known" in refused.json["error"]
    assert not is_signed_in(browser)
    assert recorded_events(wsgi_app, events.PASSKEY_REMOVED)
    deliver_mail(wsgi_app)
    assert any("removed" in m.message["Subject"] for m in smtp_server.mailbox.to(ALICE))
    # Without a second factor left, the password alone signs in again.
    assert urlsplit(sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD).location).path == (
        "/account"
    )


def test_a_passkey_is_renamed_and_a_blank_name_is_refused(wsgi_app, alice):
    client, _ = alice
    (passkey,) = _passkeys(wsgi_app)
    action = f"/account/passkeys/{passkey.id}/rename"
    form = form_by_action(client.get("/account/passkeys"), action)
    form["name"] = "  "
    refused = form.submit(status=400)
    field = refused.html.find(id=f"passkey-name-{passkey.id}")
    assert field["aria-invalid"] == "true"
    assert (
        refused.html.find(id=field["aria-describedby"]).text.strip() == "Give the passkey a name."
    )
    form = form_by_action(client.get("/account/passkeys"), action)
    form["name"] = "Phone\u202e<b>"
    form.submit(status=303)
    assert _passkeys(wsgi_app)[0].name == "Phone<b>"
    assert "Phone&lt;b&gt;" in client.get("/account/passkeys").text


def test_another_accounts_passkey_cannot_be_renamed_or_removed(wsgi_app, alice):
    (passkey,) = _passkeys(wsgi_app)
    create_account(wsgi_app, "mallory@example.com", STRONG_PASSWORD)
    mallory = new_client(wsgi_app)
    sign_in(mallory, "mallory@example.com", STRONG_PASSWORD)
    token = mallory.get("/account/passkeys").html.find(id="passkey-add")["data-csrf"]
    for action in ("rename", "delete"):
        mallory.post(
            f"/account/passkeys/{passkey.id}/{action}",
            {"csrf_token": token, "name": "mine"},
            status=404,
        )
    assert _passkeys(wsgi_app)[0].name == "Laptop"


def test_an_administrators_remove_two_factor_removes_the_passkeys(wsgi_app, alice):
    _, device = alice
    create_account(wsgi_app, "admin@example.com", STRONG_PASSWORD)
    with db(wsgi_app) as session, session.begin():
        session.scalars(
            select(Account).where(Account.email == "admin@example.com")
        ).one().is_admin = True
        alice_id = session.scalars(select(Account.id).where(Account.email == ALICE)).one()
    admin = new_client(wsgi_app)
    sign_in(admin, "admin@example.com", STRONG_PASSWORD)
    page = admin.get(f"/admin/accounts/{alice_id}/remove_two_factor")
    assert "Laptop" in page.html.find(id="second-factors-to-remove").text
    form_by_action(page, f"/admin/accounts/{alice_id}/remove_two_factor").submit(status=303)
    assert _passkeys(wsgi_app) == []
    sign_in_with_passkey(new_client(wsgi_app), device, status=400)
    (removed,) = recorded_events(wsgi_app, events.PASSKEY_REMOVED)
    assert removed.actor_id is not None


def test_recovery_codes_for_an_account_with_only_a_passkey(wsgi_app, alice):
    client, _ = alice
    page = client.get("/account/passkeys")
    assert "No recovery codes" in page.text
    codes_page = form_by_action(page, "/account/two_factor/recovery_codes").submit(status=200)
    codes = [li.text.strip() for li in codes_page.html.find(id="recovery-codes").find_all("li")]
    browser = new_client(wsgi_app)
    sign_in(browser, ALICE, STRONG_PASSWORD)
    second_step = browser.get("/account/signin/two_factor")
    assert second_step.html.find(id="passkey-verify") is not None
    form = form_by_action(second_step, "/account/signin/two_factor")
    form["code"] = codes[0]
    form.submit(status=303)
    assert is_signed_in(browser)


# Item 43 and the refusals: each a 4xx and an event, never a 500.

REGISTRATION_FAULTS = {
    "wrong origin": {"origin": "https://accounts.example.test.evil.test"},
    "wrong relying party": {"rp_id": "evil.test"},
    "another challenge": {"challenge": b"a challenge this browser was never given"},
    "run in another site's frame": {"cross_origin": True},
}


@pytest.mark.parametrize("fault", REGISTRATION_FAULTS)
def test_a_registration_answer_for_another_site_or_challenge_is_refused(wsgi_app, fault):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    started = start(client, "/account/passkeys", "passkey-add")
    credential = authenticator().create(started.options, **REGISTRATION_FAULTS[fault])
    refused = answer(client, started, credential, status=400)
    assert refused.json["error"]
    assert _passkeys(wsgi_app) == []
    assert len(recorded_events(wsgi_app, events.PASSKEY_REFUSED)) == 1
    assert not recorded_events(wsgi_app, events.PASSKEY_ADDED)


SIGN_IN_FAULTS = {
    "wrong origin": ({"origin": "https://phish.example"}, "origin"),
    "wrong relying party": ({"rp_id": "phish.example"}, "RP ID"),
    "another challenge": ({"challenge": b"an old challenge"}, "challenge"),
    "run in another site's frame": ({"cross_origin": True}, "frame"),
}


@pytest.mark.parametrize("fault", SIGN_IN_FAULTS)
def test_a_sign_in_answer_for_another_site_or_challenge_is_refused(wsgi_app, alice, fault):
    _, device = alice
    overrides, reason = SIGN_IN_FAULTS[fault]
    browser = new_client(wsgi_app)
    refused = sign_in_with_passkey(browser, device, status=400, **overrides)
    assert refused.json["error"]
    assert not is_signed_in(browser)
    (event,) = recorded_events(wsgi_app, events.PASSKEY_REFUSED)
    assert reason in event.details["reason"]


def test_an_unknown_passkey_is_refused(wsgi_app, alice):
    stranger = authenticator()
    stranger.create(
        {
            "rp": {"id": "accounts.example.test"},
            "user": {"id": "AAAA"},
            "challenge": "AAAA",
        }
    )
    browser = new_client(wsgi_app)
    refused = sign_in_with_passkey(browser, stranger, status=400)
    assert "not known" in refused.json["error"]
    assert (
        recorded_events(wsgi_app, events.PASSKEY_REFUSED)[-1].details["reason"] == "unknown passkey"
    )


def test_a_user_handle_that_is_not_the_owners_is_refused(wsgi_app, alice):
    _, device = alice
    credential = next(iter(device.credentials.values()))
    credential.user_handle = b"someone else"
    refused = sign_in_with_passkey(new_client(wsgi_app), device, status=400)
    assert refused.json["error"]
    assert recorded_events(wsgi_app, events.PASSKEY_REFUSED)[-1].details["reason"] == "user handle"


def test_an_answer_sent_twice_is_refused_the_second_time(wsgi_app, alice):
    _, device = alice
    browser = new_client(wsgi_app)
    started = start(browser, "/account/signin", "passkey-signin")
    credential = device.get(started.options)
    answer(browser, started, credential)
    # Signing in gave the browser a new CSRF token; with it, the same answer again.
    started.csrf = browser.get("/account/signin").html.find(id="passkey-signin")["data-csrf"]
    answer(browser, started, credential, status=400)
    assert recorded_events(wsgi_app, events.PASSKEY_REFUSED)[-1].details["reason"] == "no challenge"


def test_a_challenge_replayed_with_an_old_session_cookie_is_refused(wsgi_app, alice):
    """The challenge waits in the browser's session cookie; sending the cookie from
    before the answer again must not make the challenge new again."""
    _, device = alice
    browser = new_client(wsgi_app)
    started = start(browser, "/account/signin", "passkey-signin")
    cookie_with_challenge = browser.cookies["session"]
    credential = device.get(started.options)
    answer(browser, started, credential)

    attacker = new_client(wsgi_app)
    attacker.set_cookie("session", cookie_with_challenge)
    refused = answer(attacker, started, credential, status=400)
    assert "already answered" in refused.json["error"]
    assert (
        recorded_events(wsgi_app, events.PASSKEY_REFUSED)[-1].details["reason"]
        == "challenge replayed"
    )
    assert not is_signed_in(attacker)


def test_a_challenge_given_to_one_browser_cannot_be_answered_from_another(wsgi_app, alice):
    _, device = alice
    victim = new_client(wsgi_app)
    started = start(victim, "/account/signin", "passkey-signin")
    credential = device.get(started.options)
    attacker = new_client(wsgi_app)
    attacker_started = start(attacker, "/account/signin", "passkey-signin")
    answer(attacker, attacker_started, credential, status=400)
    assert not is_signed_in(attacker)
    assert "challenge" in recorded_events(wsgi_app, events.PASSKEY_REFUSED)[-1].details["reason"]


def test_a_challenge_expires_after_five_minutes(wsgi_app, alice, monkeypatch):
    _, device = alice
    browser = new_client(wsgi_app)
    started = start(browser, "/account/signin", "passkey-signin")
    credential = device.get(started.options)
    real_time = cryptography.fernet.time.time
    monkeypatch.setattr(cryptography.fernet.time, "time", lambda: real_time() + 301)
    refused = answer(browser, started, credential, status=400)
    assert "expired" in refused.json["error"]
    assert not is_signed_in(browser)


def test_a_challenge_for_adding_cannot_be_answered_to_sign_in(wsgi_app, alice):
    client, device = alice
    started = start(client, "/account/passkeys", "passkey-add")
    sign_in_started = start(client, "/account/signin", "passkey-signin")
    credential = device.get({**sign_in_started.options, "challenge": started.options["challenge"]})
    answer(client, sign_in_started, credential, status=400)


def test_a_counter_that_goes_backwards_is_refused_as_a_possible_copy(wsgi_app, alice):
    _, device = alice
    sign_in_with_passkey(new_client(wsgi_app), device)  # the counter is now 1
    copy = next(iter(device.credentials.values())).clone()
    sign_in_with_passkey(new_client(wsgi_app), device)  # the original moves on to 2
    browser = new_client(wsgi_app)
    started = start(browser, "/account/signin", "passkey-signin")
    refused = answer(browser, started, device.get(started.options, credential=copy), status=400)
    assert "copied" in refused.json["error"]
    assert not is_signed_in(browser)
    (suspected,) = recorded_events(wsgi_app, events.PASSKEY_CLONE_SUSPECTED)
    assert suspected.details == {"name": "Laptop"}
    with db(wsgi_app) as session:
        assert session.scalars(select(WebAuthnCredential.sign_count)).one() == 2


def test_answered_challenges_are_kept_only_as_hashes(wsgi_app, alice):
    _, device = alice
    browser = new_client(wsgi_app)
    started = start(browser, "/account/signin", "passkey-signin")
    answer(browser, started, device.get(started.options))
    with db(wsgi_app) as session:
        hashes = list(session.scalars(select(SpentChallenge.challenge_hash)))
        assert session.scalar(select(func.count()).select_from(SpentChallenge)) == 2
    assert started.options["challenge"] not in hashes
    assert all(len(h) == 64 for h in hashes)


def test_a_wrong_code_keeps_offering_the_passkey_to_an_account_with_both(wsgi_app, alice, clock):
    client, _ = alice
    set_up_totp(client, clock)
    clock.advance(seconds=31)
    other = new_client(wsgi_app)
    sign_in(other, ALICE, STRONG_PASSWORD)
    page = other.get("/account/signin/two_factor")
    form = form_by_action(page, "/account/signin/two_factor")
    form["code"] = "000000"
    refused = form.submit(status=400)
    assert refused.html.find("input", attrs={"name": "code"}) is not None
    assert refused.html.find(id="passkey-verify") is not None


def test_a_passkey_refusal_speaks_the_browsers_language(wsgi_app, alice):
    stranger = authenticator()
    stranger.create(
        {"rp": {"id": "accounts.example.test"}, "user": {"id": "AAAA"}, "challenge": "AAAA"}
    )
    browser = new_client(wsgi_app)
    browser.extra_environ["HTTP_ACCEPT_LANGUAGE"] = "de"
    refused = sign_in_with_passkey(browser, stranger, status=400)
    assert refused.json["error"].startswith("Dieser Passkey ist hier nicht bekannt")
    assert refused.headers["Content-Type"] == "application/json"


def test_the_passkeys_page_offers_recovery_codes_until_there_are_some(wsgi_app, alice):
    client, _ = alice
    page = client.get("/account/passkeys")
    assert "No recovery codes" in page.text
    # Adding a passkey gives no recovery codes; making them removes the offer.
    form_by_action(page, "/account/two_factor/recovery_codes").submit(status=(200, 303))
    assert "No recovery codes" not in client.get("/account/passkeys").text
