"""The HTML pages and the JSON API are two faces of the same services (docs/security.md 68):
for each rule, both faces are driven against the same app and give the same outcome.
Answers that reveal nothing, limits, the second factor, re-authentication, a reset
ending every session, and a disabled account."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.models import Account, LoginSession
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, THIRD_PASSWORD, new_client
from tests.functional.flows import (
    change_password,
    choose_password,
    code_at,
    create_account,
    db,
    deliver_mail,
    forgot_password,
    is_signed_in,
    open_link,
    register,
    set_up_totp,
    sign_in,
)
from tests.support import comparable, form_by_action

ALICE = "alice@example.com"
BOB = "bob@example.com"
WRONG_PASSWORD = "not the password at all"


# Each face, driven as its clients drive it


def api(wsgi_app, ip: str = "203.0.113.7"):
    """A client of the API in app mode: no cookies, so no browser mode."""
    return new_client(wsgi_app, ip=ip)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_sign_in(wsgi_app, email: str, password: str, ip: str = "203.0.113.7"):
    return api(wsgi_app, ip).post_json(
        "/api/v1/session", {"email": email, "password": password}, status="*"
    )


def api_session(wsgi_app) -> dict[str, str]:
    """The headers of a new app-mode session of ALICE."""
    signed_in = api_sign_in(wsgi_app, ALICE, STRONG_PASSWORD)
    assert signed_in.status_int == 201, signed_in.text
    return bearer(signed_in.json["session_token"])


def html_sign_in(wsgi_app, email: str, password: str, ip: str = "203.0.113.7"):
    return sign_in(new_client(wsgi_app, ip=ip), email, password, status="*")


def codes(response) -> list[str]:
    return [error["code"] for error in response.json["errors"]]


def message(response) -> str:
    (error,) = response.json["errors"]
    return error["message"]


def html_errors(page) -> list[str]:
    """The errors a form page shows: over the form, and beside each field."""
    summary = page.html.find(id="error-summary")
    shown = [p.get_text(" ", strip=True) for p in summary.find_all("p")] if summary else []
    return shown + [p.get_text(" ", strip=True) for p in page.html.select(".field-error")]


def path_of(response) -> str:
    return urlsplit(response.location).path


def api_signed_in(wsgi_app, headers: dict[str, str]) -> bool:
    return api(wsgi_app).get("/api/v1/session", headers=headers).json["signed_in"]


def assert_html_too_many(page) -> None:
    assert page.status_int == 429
    assert int(page.headers["Retry-After"]) > 0
    assert "There have been too many attempts" in page.text


def assert_api_too_many(response) -> None:
    assert response.status_int == 429
    assert codes(response) == ["rate_limited"]
    assert int(response.headers["Retry-After"]) > 0


def account_with_totp(wsgi_app, clock) -> str:
    """ALICE with the authenticator app on (set up in a browser that then leaves); the
    secret, with the clock past the time step used to set it up."""
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    browser = new_client(wsgi_app, ip="192.0.2.1")
    sign_in(browser, ALICE, STRONG_PASSWORD)
    secret, _codes = set_up_totp(browser, clock)
    clock.advance(seconds=31)
    return secret


def second_step(client, code: str):
    page = client.get("/account/signin/two_factor")
    form = form_by_action(page, "/account/signin/two_factor")
    form["code"] = code
    return form.submit(status="*")


def wrong_code(secret: str, clock) -> str:
    return "000000" if code_at(secret, clock) != "000000" else "111111"


# 1. Answers that reveal nothing


def test_sign_in_answers_alike_for_a_wrong_password_and_an_unknown_address(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    unknown = "nobody@example.com"

    pages = [html_sign_in(wsgi_app, email, WRONG_PASSWORD) for email in (ALICE, unknown)]
    assert comparable(pages[0], ALICE) == comparable(pages[1], unknown)
    assert pages[0].status_int == 400

    wrong = api_sign_in(wsgi_app, ALICE, WRONG_PASSWORD)
    nobody = api_sign_in(wsgi_app, unknown, WRONG_PASSWORD)
    assert (wrong.status_int, wrong.json) == (nobody.status_int, nobody.json)
    assert comparable(wrong, ALICE) == comparable(nobody, unknown)
    assert wrong.status_int == 401 and codes(wrong) == ["sign_in_failed"]

    # The API's message is the page's.
    assert html_errors(pages[0]) == html_errors(pages[1]) == [message(wrong)]


def test_registration_answers_alike_for_a_new_and_a_registered_address(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    create_account(wsgi_app, BOB, STRONG_PASSWORD)
    html_new, api_new = "html.newcomer@example.com", "api.newcomer@example.com"

    html = [
        comparable(register(new_client(wsgi_app), email, OTHER_PASSWORD, status="*"), email)
        for email in (ALICE, html_new)
    ]
    assert html[0] == html[1]
    assert html[0]["status"].startswith("303")
    assert dict(html[0]["headers"])["Location"].endswith("/account/verify_sent")

    answers = [
        api(wsgi_app).post_json(
            "/api/v1/accounts", {"email": email, "password": OTHER_PASSWORD}, status="*"
        )
        for email in (BOB, api_new)
    ]
    assert answers[0].status_int == answers[1].status_int == 202
    assert answers[0].json == answers[1].json
    assert comparable(answers[0], BOB) == comparable(answers[1], api_new)

    deliver_mail(wsgi_app)
    subjects = {}
    for email in (ALICE, html_new, BOB, api_new):
        [mail] = smtp_server.mailbox.to(email)
        subjects[email] = (str(mail.message["Subject"]), mail.link_code is not None)
    # The owner of a registered address is told, a new one gets a link, on either face.
    assert subjects[ALICE] == subjects[BOB]
    assert subjects[html_new] == subjects[api_new]
    assert subjects[ALICE][1] is False and subjects[html_new][1] is True


def test_forgotten_password_answers_alike_for_a_known_and_an_unknown_address(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    create_account(wsgi_app, BOB, STRONG_PASSWORD)
    html_unknown, api_unknown = "html.nobody@example.com", "api.nobody@example.com"

    html = [
        comparable(forgot_password(new_client(wsgi_app), email, status="*"), email)
        for email in (ALICE, html_unknown)
    ]
    assert html[0] == html[1]
    assert html[0]["status"].startswith("303")
    assert dict(html[0]["headers"])["Location"].endswith("/account/reset_sent")

    answers = [
        api(wsgi_app).post_json("/api/v1/password/forgot", {"email": email}, status="*")
        for email in (BOB, api_unknown)
    ]
    assert answers[0].status_int == answers[1].status_int == 202
    assert answers[0].json == answers[1].json
    assert comparable(answers[0], BOB) == comparable(answers[1], api_unknown)

    deliver_mail(wsgi_app)
    for known in (ALICE, BOB):
        [mail] = smtp_server.mailbox.to(known)
        assert "/account/reset_password/" in mail.link
    assert smtp_server.mailbox.to(html_unknown) == smtp_server.mailbox.to(api_unknown) == []


# 2. Limits


LIMIT = 6  # guesses, half through each face


def _limited(make_app, app_settings, name: str):
    return make_app({**app_settings, f"ratelimit.{name}": f"{LIMIT}/5minutes"})


@pytest.mark.parametrize("html_first", [True, False], ids=["html-first", "api-first"])
def test_wrong_passwords_through_both_faces_share_the_limit_per_account(
    make_app, app_settings, html_first
):
    wsgi_app = _limited(make_app, app_settings, "signin_per_account")
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    statuses = []
    for n in range(LIMIT):
        # Each guess from another address: the per-address limit plays no part.
        ip = f"198.51.100.{n + 1}"
        if (n % 2 == 0) == html_first:
            statuses.append(("html", html_sign_in(wsgi_app, ALICE, WRONG_PASSWORD, ip).status_int))
        else:
            statuses.append(("api", api_sign_in(wsgi_app, ALICE, WRONG_PASSWORD, ip).status_int))
    assert sorted(set(statuses)) == [("api", 401), ("html", 400)]

    # Both faces refuse now, even the right password, from addresses not seen before.
    for password in (WRONG_PASSWORD, STRONG_PASSWORD):
        assert_html_too_many(html_sign_in(wsgi_app, ALICE, password, "192.0.2.60"))
        assert_api_too_many(api_sign_in(wsgi_app, ALICE, password, "192.0.2.61"))


def test_sign_ins_through_both_faces_share_the_limit_per_address(make_app, app_settings):
    wsgi_app = _limited(make_app, app_settings, "signin_per_ip")
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    ip = "198.51.100.77"
    statuses = []
    for n in range(LIMIT):
        # Another account's address each time: only the per-address limit is reached.
        email = f"someone{n}@example.com"
        face = html_sign_in if n % 2 == 0 else api_sign_in
        statuses.append(face(wsgi_app, email, WRONG_PASSWORD, ip).status_int)
    assert statuses == [400, 401] * (LIMIT // 2)

    assert_html_too_many(html_sign_in(wsgi_app, ALICE, STRONG_PASSWORD, ip))
    assert_api_too_many(api_sign_in(wsgi_app, ALICE, STRONG_PASSWORD, ip))
    # Elsewhere, both faces still answer.
    assert html_sign_in(wsgi_app, ALICE, WRONG_PASSWORD, "192.0.2.70").status_int == 400
    assert api_sign_in(wsgi_app, ALICE, WRONG_PASSWORD, "192.0.2.71").status_int == 401


def test_wrong_second_factor_codes_through_both_faces_share_the_limit(
    make_app, app_settings, clock
):
    wsgi_app = _limited(make_app, app_settings, "second_factor_per_account")
    secret = account_with_totp(wsgi_app, clock)
    browser = new_client(wsgi_app, ip="198.51.100.1")
    assert path_of(sign_in(browser, ALICE, STRONG_PASSWORD)) == "/account/signin/two_factor"
    app_client = api(wsgi_app, ip="198.51.100.2")
    first = app_client.post_json(
        "/api/v1/session", {"email": ALICE, "password": STRONG_PASSWORD}, status=401
    )
    pending = bearer(first.json["pending_token"])

    def api_code(code: str):
        return app_client.post_json(
            "/api/v1/session/second_factor", {"code": code}, headers=pending, status="*"
        )

    bad = wrong_code(secret, clock)
    statuses = []
    for n in range(LIMIT):
        statuses.append(
            second_step(browser, bad).status_int if n % 2 == 0 else api_code(bad).status_int
        )
    assert statuses == [400, 401] * (LIMIT // 2)

    # Now even the right code is refused on both faces.
    right = code_at(secret, clock)
    assert_html_too_many(second_step(browser, right))
    assert_api_too_many(api_code(right))
    assert not is_signed_in(browser)


def _owner_re_authenticates_and_changes_the_password(wsgi_app, face: str):
    """Sign the owner in on this face; the owner's next two steps there: re-authenticate,
    and change the password (each answers its status)."""
    if face == "html":
        browser = new_client(wsgi_app, ip="192.0.2.10")
        sign_in(browser, ALICE, STRONG_PASSWORD)

        def reauthenticate():
            form = form_by_action(browser.get("/account/reauthenticate"), "/account/reauthenticate")
            form["password"] = STRONG_PASSWORD
            return form.submit(status="*").status_int

        def change():
            return change_password(browser, STRONG_PASSWORD, OTHER_PASSWORD, status="*").status_int

        return reauthenticate, change

    if face == "api-browser-mode":
        client = new_client(wsgi_app, ip="192.0.2.10")
        sign_in(client, ALICE, STRONG_PASSWORD)

        def headers():
            state = client.get("/api/v1/session").json
            return {"X-CSRF-Token": state["csrf_token"]}

    else:
        client = api(wsgi_app, ip="192.0.2.10")
        token_headers = api_session(wsgi_app)

        def headers():
            return token_headers

    def api_reauthenticate():
        body = {"password": STRONG_PASSWORD}
        return client.post_json(
            "/api/v1/reauthenticate", body, headers=headers(), status="*"
        ).status_int

    def api_change():
        body = {"current_password": STRONG_PASSWORD, "password": OTHER_PASSWORD}
        return client.post_json(
            "/api/v1/password/change", body, headers=headers(), status="*"
        ).status_int

    return api_reauthenticate, api_change


OWNER_DONE = {"html": (303, 303), "api-browser-mode": (200, 200), "api-app-mode": (200, 200)}


@pytest.mark.parametrize(
    "face",
    [
        "html",
        "api-browser-mode",
        "api-app-mode",
    ],
)
def test_strangers_who_lock_the_account_do_not_stop_the_signed_in_owner(
    make_app, app_settings, face
):
    wsgi_app = _limited(make_app, app_settings, "signin_per_account")
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    reauthenticate, change = _owner_re_authenticates_and_changes_the_password(wsgi_app, face)

    for n in range(LIMIT):
        face_of_guess = html_sign_in if n % 2 == 0 else api_sign_in
        face_of_guess(wsgi_app, ALICE, WRONG_PASSWORD, f"198.51.100.{n + 1}")
    assert_html_too_many(html_sign_in(wsgi_app, ALICE, STRONG_PASSWORD, "192.0.2.60"))
    assert_api_too_many(api_sign_in(wsgi_app, ALICE, STRONG_PASSWORD, "192.0.2.61"))

    assert (reauthenticate(), change()) == OWNER_DONE[face]


def _html_register(wsgi_app, email: str, ip: str):
    return register(new_client(wsgi_app, ip=ip), email, OTHER_PASSWORD, status="*")


def _api_register(wsgi_app, email: str, ip: str):
    body = {"email": email, "password": OTHER_PASSWORD}
    return api(wsgi_app, ip).post_json("/api/v1/accounts", body, status="*")


def _html_forgot(wsgi_app, email: str, ip: str):
    return forgot_password(new_client(wsgi_app, ip=ip), email, status="*")


def _api_forgot(wsgi_app, email: str, ip: str):
    return api(wsgi_app, ip).post_json("/api/v1/password/forgot", {"email": email}, status="*")


# The limit per address of each emailed flow: (its name, the page's request, the API's).
EMAILED_FLOWS = {
    "register": ("register_per_email", _html_register, _api_register),
    "forgot-password": ("forgot_per_email", _html_forgot, _api_forgot),
}


@pytest.mark.parametrize("flow", EMAILED_FLOWS)
def test_requests_through_both_faces_share_the_limit_per_address_and_its_mailbox(
    make_app, app_settings, smtp_server, flow
):
    name, html_request, api_request = EMAILED_FLOWS[flow]
    wsgi_app = _limited(make_app, app_settings, name)
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    statuses = []
    for n in range(LIMIT):
        face = html_request if n % 2 == 0 else api_request
        statuses.append(face(wsgi_app, ALICE, f"198.51.100.{n + 1}").status_int)
    assert statuses == [303, 202] * (LIMIT // 2)

    assert_html_too_many(html_request(wsgi_app, ALICE, "192.0.2.60"))
    assert_api_too_many(api_request(wsgi_app, ALICE, "192.0.2.61"))
    deliver_mail(wsgi_app)
    assert len(smtp_server.mailbox.to(ALICE)) == LIMIT


# 3. The second factor


def test_the_password_alone_gives_no_session_and_a_wrong_code_is_refused_alike(wsgi_app, clock):
    secret = account_with_totp(wsgi_app, clock)

    browser = new_client(wsgi_app)
    asked = sign_in(browser, ALICE, STRONG_PASSWORD, status="*")
    assert asked.status_int == 303
    assert path_of(asked) == "/account/signin/two_factor"
    assert "auth" not in browser.cookies
    assert not is_signed_in(browser)

    app_client = api(wsgi_app)
    first = app_client.post_json(
        "/api/v1/session", {"email": ALICE, "password": STRONG_PASSWORD}, status="*"
    )
    assert first.status_int == 401
    assert codes(first) == ["second_factor_required"]
    assert "session_token" not in first.json
    pending = bearer(first.json["pending_token"])
    # The pending token is no session.
    assert codes(app_client.get("/api/v1/account", headers=pending, status=401)) == [
        "not_signed_in"
    ]
    assert not api_signed_in(wsgi_app, pending)

    bad = wrong_code(secret, clock)
    html_refused = second_step(browser, bad)
    api_refused = app_client.post_json(
        "/api/v1/session/second_factor", {"code": bad}, headers=pending, status="*"
    )
    assert html_refused.status_int == 400
    assert api_refused.status_int == 401
    assert codes(api_refused) == ["invalid_second_factor_code"]
    assert message(api_refused) in html_errors(html_refused)
    assert not is_signed_in(browser)

    # The right code signs the browser in, and that sign-in spends every sign-in of the
    # account still waiting for its second factor: the app's starts again.
    assert path_of(second_step(browser, code_at(secret, clock))) == "/account"
    assert is_signed_in(browser)
    clock.advance(seconds=30)
    spent = app_client.post_json(
        "/api/v1/session/second_factor",
        {"code": code_at(secret, clock)},
        headers=pending,
        status="*",
    )
    assert spent.status_int == 401
    assert codes(spent) == ["sign_in_expired"]
    again = app_client.post_json(
        "/api/v1/session", {"email": ALICE, "password": STRONG_PASSWORD}, status=401
    )
    clock.advance(seconds=30)
    done = app_client.post_json(
        "/api/v1/session/second_factor",
        {"code": code_at(secret, clock)},
        headers=bearer(again.json["pending_token"]),
        status="*",
    )
    assert done.status_int == 201
    assert api_signed_in(wsgi_app, bearer(done.json["session_token"]))


# 4. Re-authentication


def _csrf(browser) -> str:
    return form_by_action(browser.get("/account"), "/account/logout")["csrf_token"].value


def _html_change_email(browser):
    fields = {
        "csrf_token": _csrf(browser),
        "current_password": STRONG_PASSWORD,
        "new_email": "html.new@example.com",
    }
    return browser.post("/account/change_email", fields, status="*")


def _api_change_email(client, headers):
    body = {"current_password": STRONG_PASSWORD, "email": "api.new@example.com"}
    return client.post_json("/api/v1/email/change", body, headers=headers, status="*")


def _html_start_totp(browser):
    return browser.get("/account/two_factor/totp", status="*")


def _api_start_totp(client, headers):
    return client.post("/api/v1/two_factor/totp", headers=headers, status="*")


# (the page's request, where it leads once allowed), (the API's request, its status then)
SENSITIVE_CHANGES = {
    "change-email": ((_html_change_email, "/account/change_email/sent"), (_api_change_email, 202)),
    "set-up-totp": ((_html_start_totp, None), (_api_start_totp, 200)),
}


def _html_allowed(response, leads_to: str | None) -> bool:
    if leads_to is None:
        return response.status_int == 200
    return response.status_int == 303 and path_of(response) == leads_to


@pytest.mark.parametrize("change", SENSITIVE_CHANGES)
def test_a_sensitive_change_needs_re_authentication_on_each_face(wsgi_app, clock, change):
    (html_change, leads_to), (api_change, api_done) = SENSITIVE_CHANGES[change]
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    browser = new_client(wsgi_app)
    sign_in(browser, ALICE, STRONG_PASSWORD)
    app_client, app_headers = api(wsgi_app), api_session(wsgi_app)

    minutes = wsgi_app.registry["app_settings"].session_reauth_minutes
    clock.advance(minutes=minutes + 1)

    asked = html_change(browser)
    assert asked.status_int == 303
    assert path_of(asked) == "/account/reauthenticate"
    stale = api_change(app_client, app_headers)
    assert stale.status_int == 401
    assert codes(stale) == ["reauthentication_required"]

    # Re-authenticating in the browser lets the browser make the change...
    again = form_by_action(browser.get(asked.location), "/account/reauthenticate")
    again["password"] = STRONG_PASSWORD
    assert again.submit(status="*").status_int == 303
    assert _html_allowed(html_change(browser), leads_to)
    # ...and not the app, whose session was not re-authenticated.
    assert codes(api_change(app_client, app_headers)) == ["reauthentication_required"]

    reauthenticated = app_client.post_json(
        "/api/v1/reauthenticate", {"password": STRONG_PASSWORD}, headers=app_headers, status="*"
    )
    assert reauthenticated.status_int == 200
    assert api_change(app_client, app_headers).status_int == api_done


# 5. A reset ends every session


@pytest.mark.parametrize("face", ["html", "api"])
def test_a_password_reset_ends_the_sessions_of_both_faces(wsgi_app, smtp_server, face):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    app_headers = api_session(wsgi_app)
    browser = new_client(wsgi_app)
    sign_in(browser, ALICE, STRONG_PASSWORD)
    assert api_signed_in(wsgi_app, app_headers) and is_signed_in(browser)

    resetter = new_client(wsgi_app, ip="192.0.2.99")
    if face == "html":
        forgot_password(resetter, ALICE)
    else:
        resetter.post_json("/api/v1/password/forgot", {"email": ALICE}, status=202)
    deliver_mail(wsgi_app)
    [mail] = [m for m in smtp_server.mailbox.to(ALICE) if "/account/reset_password/" in m.text]
    key = mail.link_code

    if face == "html":
        open_link(resetter, key)
        said = choose_password(resetter, THIRD_PASSWORD).html.select_one(".notice-success p")
        said = said.get_text(" ", strip=True)
    else:
        done = resetter.post_json(
            "/api/v1/password/reset", {"key": key, "password": THIRD_PASSWORD}, status="*"
        )
        assert done.status_int == 200
        said = done.json["message"]
    assert said == "Your password has been reset, please sign in."

    assert not api_signed_in(wsgi_app, app_headers)
    refused = api(wsgi_app).get("/api/v1/account", headers=app_headers, status="*")
    assert refused.status_int == 401 and codes(refused) == ["not_signed_in"]
    assert not is_signed_in(browser)
    with db(wsgi_app) as session:
        ended = session.scalars(select(LoginSession.revoked_at)).all()
    assert len(ended) == 2 and None not in ended

    # The old password is wrong on both faces, the new one signs in on both.
    assert html_sign_in(wsgi_app, ALICE, STRONG_PASSWORD).status_int == 400
    assert api_sign_in(wsgi_app, ALICE, STRONG_PASSWORD).status_int == 401
    assert html_sign_in(wsgi_app, ALICE, THIRD_PASSWORD).status_int == 303
    assert api_sign_in(wsgi_app, ALICE, THIRD_PASSWORD).status_int == 201


# 6. A disabled account


def test_a_disabled_account_is_told_only_to_the_right_password_on_both_faces(wsgi_app):
    alice_id = create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    create_account(wsgi_app, BOB, STRONG_PASSWORD)
    with db(wsgi_app) as session, session.begin():
        session.get(Account, alice_id).is_disabled = True

    browser = new_client(wsgi_app)
    page = sign_in(browser, ALICE, STRONG_PASSWORD, status="*")
    answer = api_sign_in(wsgi_app, ALICE, STRONG_PASSWORD)
    assert answer.status_int == 403
    assert codes(answer) == ["account_disabled"]
    assert "This account is disabled" in message(answer)
    assert page.status_int == 400
    assert html_errors(page) == [message(answer)]
    assert "session_token" not in answer.json
    assert not is_signed_in(browser)

    # A wrong password answers as at any other account.
    html_wrong = comparable(html_sign_in(wsgi_app, ALICE, WRONG_PASSWORD), ALICE)
    html_other = comparable(html_sign_in(wsgi_app, BOB, WRONG_PASSWORD), BOB)
    assert html_wrong == html_other
    api_wrong = api_sign_in(wsgi_app, ALICE, WRONG_PASSWORD)
    api_other = api_sign_in(wsgi_app, BOB, WRONG_PASSWORD)
    assert (api_wrong.status_int, api_wrong.json) == (api_other.status_int, api_other.json)
    assert codes(api_wrong) == ["sign_in_failed"]
