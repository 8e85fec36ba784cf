"""What the pages do for the people using them: errors at the field they concern, every
problem at once, the focus where it helps, "remember me", and the small kindnesses
(the address offered again, a word after signing out)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from app.models import Account
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    choose_password,
    create_account,
    db,
    deliver_mail,
    forgot_password,
    open_link,
    sign_in,
)
from tests.support import form_by_action

ALICE = "alice@example.com"


def _field(page, name):
    return page.html.find(id=name)


def test_an_empty_registration_names_every_field_at_fault(wsgi_app):
    page = new_client(wsgi_app).get("/account/register")
    answer = form_by_action(page, "/account/register").submit(status=400)
    summary = answer.html.find(id="error-summary")
    assert summary["role"] == "alert"
    links = [a["href"] for a in summary.find_all("a")]
    assert links == ["#email", "#password"]
    for name in ("email", "password"):
        field = _field(answer, name)
        assert field["aria-invalid"] == "true"
        error = answer.html.find(id=field["aria-describedby"].split()[0])
        assert "field-error" in error["class"] and error.text.strip()
    # The first field at fault has the focus; the others do not.
    assert _field(answer, "email").has_attr("autofocus")
    assert not _field(answer, "password").has_attr("autofocus")
    assert not _field(answer, "confirm_password").has_attr("aria-invalid")


def test_a_wrong_email_keeps_the_passwords_and_a_mismatch_empties_them(wsgi_app):
    client = new_client(wsgi_app)
    form = form_by_action(client.get("/account/register"), "/account/register")
    form["email"] = "not an address"
    form["password"] = form["confirm_password"] = STRONG_PASSWORD
    answer = form.submit(status=400)
    assert _field(answer, "email")["aria-invalid"] == "true"
    assert _field(answer, "email").has_attr("autofocus")
    # The passwords were fine: typed again for nothing would be a chore.
    assert _field(answer, "password")["value"] == STRONG_PASSWORD
    assert _field(answer, "confirm_password")["value"] == STRONG_PASSWORD
    # The help text stays tied to the field, after the error.
    assert "password-help" in _field(answer, "password")["aria-describedby"]

    form = form_by_action(client.get("/account/register"), "/account/register")
    form["email"] = ALICE
    form["password"] = STRONG_PASSWORD
    form["confirm_password"] = OTHER_PASSWORD
    answer = form.submit(status=400)
    assert _field(answer, "confirm_password")["aria-invalid"] == "true"
    assert _field(answer, "confirm_password").has_attr("autofocus")
    assert not _field(answer, "password").has_attr("value")
    assert _field(answer, "email")["value"] == ALICE


def test_a_weak_password_is_told_at_the_password_field(wsgi_app):
    form = form_by_action(new_client(wsgi_app).get("/account/register"), "/account/register")
    form["email"] = ALICE
    form["password"] = form["confirm_password"] = "password1234"
    answer = form.submit(status=400)
    assert _field(answer, "password")["aria-invalid"] == "true"
    assert answer.html.find(id="password-error").text.strip()
    assert not _field(answer, "password").has_attr("value")


def test_a_refused_sign_in_focuses_the_summary_and_never_gives_the_password_back(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    answer = sign_in(new_client(wsgi_app), ALICE, OTHER_PASSWORD, status=400)
    summary = answer.html.find(id="error-summary")
    assert "Email or password is incorrect." in summary.text
    assert summary.has_attr("autofocus") and summary["tabindex"] == "-1"
    assert not _field(answer, "password").has_attr("value")
    assert _field(answer, "email")["value"] == ALICE


def test_no_password_is_given_back_after_a_successful_step(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    for page in ("/account/change_password", "/account/change_email", "/account"):
        assert STRONG_PASSWORD not in client.get(page).text


def test_a_wrong_current_password_is_told_at_that_field(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    form = form_by_action(client.get("/account/change_password"), "/account/change_password")
    form["current_password"] = OTHER_PASSWORD
    form["password"] = form["confirm_password"] = "violet mango tractor 1987"
    answer = form.submit(status=400)
    assert _field(answer, "current_password")["aria-invalid"] == "true"
    assert _field(answer, "current_password").has_attr("autofocus")
    assert not _field(answer, "password").has_attr("aria-invalid")


# Remember me


def _auth_cookie(response) -> str:
    (cookie,) = [c for c in response.headers.getall("Set-Cookie") if c.startswith("auth=")]
    return cookie


def test_without_remember_me_the_session_cookie_ends_with_the_browser(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    page = new_client(wsgi_app).get("/account/signin")
    assert not _field(page, "remember_me").has_attr("checked")
    cookie = _auth_cookie(sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD))
    assert "max-age" not in cookie.lower() and "expires" not in cookie.lower()


def test_with_remember_me_the_cookie_lasts_as_long_as_the_session_may(wsgi_app, app_settings):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    form = form_by_action(client.get("/account/signin"), "/account/signin")
    form["email"], form["password"] = ALICE, STRONG_PASSWORD
    form["remember_me"] = True
    cookie = _auth_cookie(form.submit(status=303))
    days = int(app_settings.get("sessions.absolute_days", 30))
    assert f"Max-Age={days * 86400}" in cookie


# Links and words


def test_signing_out_says_so(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    done = form_by_action(client.get("/account"), "/account/logout").submit(status=303)
    assert "You are signed out." in client.get(done.location).text


def test_after_a_reset_the_sign_in_form_offers_the_address(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    open_link(client, smtp_server.mailbox.to(ALICE)[-1].link_code)
    done = choose_password(client, OTHER_PASSWORD)
    assert done.html.find("h1").text.strip() == "Your password is changed"
    page = client.get("/account/signin")
    assert _field(page, "email")["value"] == ALICE
    assert ALICE not in client.cookies.get("session", "")
    sign_in(client, ALICE, OTHER_PASSWORD)
    # Offered once.
    sign_in(client, ALICE, OTHER_PASSWORD)
    assert not new_client(wsgi_app).get("/account/signin").html.find(id="email").get("value")


@pytest.mark.parametrize(
    "url, link",
    [
        ("/account/signin", "/account/register"),
        ("/account/forgot_password", "/account/signin"),
        ("/account/reset_sent", "/account/signin"),
    ],
)
def test_pages_link_where_people_go_next(wsgi_app, url, link):
    page = new_client(wsgi_app).get(url)
    assert page.html.find("h1") is not None
    assert page.html.find("a", href=link) is not None


# Administration


@pytest.fixture
def admin(wsgi_app):
    create_account(wsgi_app, "admin@example.com", STRONG_PASSWORD)
    with db(wsgi_app) as session, session.begin():
        session.query(Account).filter_by(email="admin@example.com").one().is_admin = True
    client = new_client(wsgi_app)
    sign_in(client, "admin@example.com", STRONG_PASSWORD)
    return client


def _listed(page) -> list[str]:
    return [a.text for a in page.html.select("tbody tr td:first-child a")]


def test_the_account_list_filters_by_status_and_sorts(wsgi_app, admin, clock):
    start = clock.now()
    rows = [
        {
            "email": email,
            "password_hash": None if status == "invited" else "x",
            "is_admin": False,
            "is_disabled": status == "disabled",
            "email_verified_at": start if status in ("active", "disabled") else None,
            "created_at": start + timedelta(minutes=i),
            "last_login_at": start + timedelta(days=10 - i) if status == "active" else None,
            "login_count": 0,
        }
        for i, (email, status) in enumerate(
            [
                ("carol@example.com", "active"),
                ("bob@example.com", "invited"),
                ("dave@example.com", "disabled"),
                ("erin@example.com", "unconfirmed"),
                ("zoe@example.com", "active"),
            ]
        )
    ]
    with db(wsgi_app) as session, session.begin():
        session.execute(insert(Account), rows)

    assert _listed(admin.get("/admin/accounts", params={"status": "invited"})) == [
        "bob@example.com"
    ]
    assert _listed(admin.get("/admin/accounts", params={"status": "disabled"})) == [
        "dave@example.com"
    ]
    assert _listed(admin.get("/admin/accounts", params={"status": "unconfirmed"})) == [
        "erin@example.com"
    ]
    active = _listed(admin.get("/admin/accounts", params={"status": "active", "sort": "email"}))
    assert active == ["admin@example.com", "carol@example.com", "zoe@example.com"]
    by_sign_in = _listed(admin.get("/admin/accounts", params={"sort": "last_sign_in"}))
    assert by_sign_in[:3] == ["carol@example.com", "zoe@example.com", "admin@example.com"]
    assert _listed(admin.get("/admin/accounts", params={"sort": "oldest"}))[0] == (
        "admin@example.com"
    )
    # Odd values are ignored rather than refused.
    assert admin.get("/admin/accounts", params={"status": "x", "sort": "'; drop"}).status_int == 200


def test_an_empty_search_offers_the_way_back(wsgi_app, admin):
    page = admin.get("/admin/accounts", params={"q": "nobody-here"})
    assert "0 accounts" in page.text
    assert page.html.find("a", string="Show all accounts")["href"] == "/admin/accounts"


def test_the_search_finds_an_account_by_its_number(wsgi_app, admin):
    alice_id = create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    assert _listed(admin.get("/admin/accounts", params={"q": f"#{alice_id}"})) == [ALICE]


def test_a_page_past_the_end_says_so(wsgi_app, admin):
    page = admin.get("/admin/accounts", params={"page": "99"}, status=404)
    assert "There is no page 99" in page.text
    assert _listed(page) == []


def test_disabling_asks_for_confirmation_first(wsgi_app, admin):
    alice_id = create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    alice = new_client(wsgi_app)
    sign_in(alice, ALICE, STRONG_PASSWORD)
    detail = admin.get(f"/admin/accounts/{alice_id}")
    confirm = detail.click(href=f"/admin/accounts/{alice_id}/disable")
    assert confirm.html.find("h1").text.strip() == f"Disable {ALICE}?"
    assert "1 signed in now" in confirm.text
    assert alice.get("/account").status_int == 200  # opening the page changed nothing
    form_by_action(confirm, f"/admin/accounts/{alice_id}/disable").submit(status=303)
    assert alice.get("/account", status=303)
