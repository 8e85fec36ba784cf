"""Administrators: invitations, the account list, disable/enable, and who may do it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import insert, select

from app.models import Account, AccountEvent
from app.services.kernel import audit as events
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    choose_password,
    create_account,
    db,
    deliver_mail,
    forgot_password,
    open_link,
    services,
    sign_in,
)
from tests.support import form_by_action

ADMIN = "admin@example.com"
ALICE = "alice@example.com"


def _account_id(wsgi_app, email: str) -> int:
    with db(wsgi_app) as session:
        return session.scalars(select(Account.id).where(Account.email == email)).one()


def _invite(admin, email: str, is_admin: bool = False, status: int = 303):
    form = form_by_action(admin.get("/admin/accounts/new"), "/admin/accounts/new")
    form["email"] = email
    form["is_admin"] = is_admin
    return form.submit(status=status)


def _act(admin, account_id: int, action: str):
    page = admin.get(f"/admin/accounts/{account_id}")
    if action == "disable":
        # Disabling is confirmed on a page of its own.
        page = page.click(href=f"/admin/accounts/{account_id}/disable")
    return form_by_action(page, f"/admin/accounts/{account_id}/{action}").submit(status=303)


def test_invited_user_chooses_a_password_signs_in_and_shows_as_active(
    admin_app, admin, smtp_server
):
    _invite(admin, "  Alice@Example.com ")
    deliver_mail(admin_app)
    [invitation] = smtp_server.mailbox.to(ALICE)
    assert "choose your password" in invitation.message["Subject"].lower()
    assert admin.get("/admin/accounts").html.find("tr", {"data-status": "invited"})

    alice = new_client(admin_app)
    open_link(alice, invitation.link_code)
    page = alice.get("/account/reset_password")
    assert "Choose your password" in page.text
    assert page.html.find("input", {"name": "username"})["value"] == ALICE
    assert "Your password is set, please sign in." in choose_password(alice, OTHER_PASSWORD).text
    sign_in(alice, ALICE, OTHER_PASSWORD)

    row = admin.get("/admin/accounts").html.find("a", string=ALICE).find_parent("tr")
    assert row["data-status"] == "active"
    deliver_mail(admin_app)
    assert smtp_server.mailbox.to(ALICE) == [invitation]


def test_a_duplicate_email_is_refused_clearly(admin_app, admin):
    create_account(admin_app, ALICE, STRONG_PASSWORD)
    response = _invite(admin, "ALICE@example.com", status=400)
    assert "already exists" in response.text


def test_an_invitation_can_be_sent_again(admin_app, admin, smtp_server):
    _invite(admin, ALICE)
    _act(admin, _account_id(admin_app, ALICE), "send_invitation")
    deliver_mail(admin_app)
    first, second = smtp_server.mailbox.to(ALICE)
    assert first.link_code != second.link_code
    open_link(new_client(admin_app), second.link_code, status=303)


ADMIN_GETS = ["/admin/accounts", "/admin/accounts/new", "/admin/accounts/1"]
ADMIN_POSTS = [
    "/admin/accounts/new",
    "/admin/accounts/1/disable",
    "/admin/accounts/1/enable",
    "/admin/accounts/1/send_reset",
    "/admin/accounts/1/send_invitation",
]


def test_non_admins_get_403_and_anonymous_visitors_are_sent_to_sign_in(admin_app):
    create_account(admin_app, ALICE, STRONG_PASSWORD)
    alice = new_client(admin_app)
    sign_in(alice, ALICE, STRONG_PASSWORD)
    token = form_by_action(alice.get("/account/sessions"), "/account/logout")["csrf_token"].value
    for url in ADMIN_GETS:
        assert "Not allowed" in alice.get(url, status=403).text
    for url in ADMIN_POSTS:
        alice.post(url, {"csrf_token": token, "email": "x@example.com"}, status=403)
    anonymous = new_client(admin_app)
    for url in ADMIN_GETS:
        location = urlsplit(anonymous.get(url, status=303).location)
        assert location.path == "/account/signin"
        assert location.query == f"came_from={url.replace('/', '%2F')}"
    with db(admin_app) as session:
        assert not session.scalars(select(Account).where(Account.is_disabled)).all()
        assert session.scalars(select(Account.email).order_by(Account.id)).all() == [ADMIN, ALICE]


def test_admin_posts_need_the_csrf_token(admin_app, admin):
    alice_id = create_account(admin_app, ALICE, STRONG_PASSWORD)
    admin.post(f"/admin/accounts/{alice_id}/disable", {}, status=400)
    with db(admin_app) as session:
        assert not session.get(Account, alice_id).is_disabled


def test_disable_ends_sessions_and_spends_codes_and_enable_restores_sign_in(
    admin_app, admin, smtp_server
):
    alice_id = create_account(admin_app, ALICE, STRONG_PASSWORD)
    alice = new_client(admin_app)
    sign_in(alice, ALICE, STRONG_PASSWORD)
    forgot_password(new_client(admin_app), ALICE)
    deliver_mail(admin_app)
    code = smtp_server.mailbox.to(ALICE)[0].link_code

    _act(admin, alice_id, "disable")
    assert urlsplit(alice.get("/account", status=303).location).path == "/account/signin"
    assert open_link(new_client(admin_app), code, status=400)
    refused = sign_in(new_client(admin_app), ALICE, STRONG_PASSWORD, status=400)
    # The right password: the owner learns the account is disabled, and whom to ask.
    assert "This account is disabled" in refused.text
    assert "contact the site's administrator" in refused.html.text
    wrong = sign_in(new_client(admin_app), ALICE, "not alice's password at all", status=400)
    assert "Email or password is incorrect." in wrong.text
    # Forgot-password answers as usual; the owner gets the reason instead of a link.
    assert forgot_password(new_client(admin_app), ALICE).status_int == 303
    deliver_mail(admin_app)
    (told,) = smtp_server.mailbox.to(ALICE, about="disabled")
    assert told.link_code is None and "contact the site's administrator" in told.text

    _act(admin, alice_id, "enable")
    sign_in(new_client(admin_app), ALICE, STRONG_PASSWORD)


def test_an_admin_cannot_disable_their_own_account(admin_app, admin):
    admin_id = _account_id(admin_app, ADMIN)
    page = admin.get(f"/admin/accounts/{admin_id}")
    assert f"/admin/accounts/{admin_id}/disable" not in page.text
    token = form_by_action(page, "/account/logout")["csrf_token"].value
    done = admin.post(f"/admin/accounts/{admin_id}/disable", {"csrf_token": token}, status=303)
    assert "cannot disable your own account" in done.follow().text
    admin.get("/admin/accounts", status=200)


def test_admin_sends_a_reset_link(admin_app, admin, smtp_server):
    alice_id = create_account(admin_app, ALICE, STRONG_PASSWORD)
    _act(admin, alice_id, "send_reset")
    deliver_mail(admin_app)
    [mail] = smtp_server.mailbox.to(ALICE)
    client = new_client(admin_app)
    open_link(client, mail.link_code)
    choose_password(client, OTHER_PASSWORD)
    sign_in(client, ALICE, OTHER_PASSWORD)


def test_each_admin_action_leaves_one_event_naming_the_admin(admin_app, admin, smtp_server):
    admin_id = _account_id(admin_app, ADMIN)
    _invite(admin, ALICE)
    alice_id = _account_id(admin_app, ALICE)
    _act(admin, alice_id, "send_invitation")
    _act(admin, alice_id, "disable")
    _act(admin, alice_id, "enable")
    with db(admin_app) as session:
        recorded = session.scalars(
            select(AccountEvent).where(AccountEvent.actor_id.is_not(None)).order_by(AccountEvent.id)
        ).all()
    assert [(e.kind, e.account_id, e.actor_id) for e in recorded] == [
        (events.ADMIN_CREATED_ACCOUNT, alice_id, admin_id),
        (events.ADMIN_SENT_INVITATION, alice_id, admin_id),
        (events.ADMIN_DISABLED, alice_id, admin_id),
        (events.ADMIN_ENABLED, alice_id, admin_id),
    ]
    page = admin.get(f"/admin/accounts/{alice_id}")
    assert "Disabled by an administrator" in page.text
    by = [row.find_all("td")[3].text for row in page.html.find("tbody").find_all("tr")]
    assert by.count(ADMIN) == 4


def test_search_and_pages_over_500_accounts(admin_app, admin, clock):
    start = clock.now()
    rows = [
        {
            "email": f"user{i:03d}@{'shop' if i % 5 == 0 else 'mail'}.example.com",
            "password_hash": None,
            "is_admin": False,
            "is_disabled": False,
            "created_at": start + timedelta(minutes=i),
            "login_count": 0,
        }
        for i in range(1, 501)
    ]
    with db(admin_app) as session, session.begin():
        session.execute(insert(Account), rows)

    first = admin.get("/admin/accounts")
    emails = [a.text for a in first.html.select("tbody tr td:first-child a")]
    assert len(emails) == 50
    assert emails[0] == "user500@shop.example.com"  # newest first
    assert "Page 1 of 11" in first.text  # 501 accounts with the admin

    last = admin.get("/admin/accounts", params={"page": "11"})
    assert [a.text for a in last.html.select("tbody tr td:first-child a")] == [ADMIN]

    shop = admin.get("/admin/accounts", params={"q": "@SHOP."})
    assert "100 accounts" in shop.text
    shop_emails = [a.text for a in shop.html.select("tbody tr td:first-child a")]
    assert len(shop_emails) == 50 and all("@shop." in e for e in shop_emails)
    page2 = admin.get("/admin/accounts", params={"q": "@shop.", "page": "2"})
    assert len(page2.html.select("tbody tr")) == 50
    assert "Page 2 of 2" in page2.text

    one = admin.get("/admin/accounts", params={"q": "user123@"})
    assert [a.text for a in one.html.select("tbody tr td:first-child a")] == [
        "user123@mail.example.com"
    ]
    wildcard = admin.get("/admin/accounts", params={"q": "%"})
    assert "0 accounts" in wildcard.text


def test_admin_search_survives_control_characters_and_wildcards(admin_app, admin):
    for query in ("a\x00b", "\r\n", "%_\\", "\u202e", "x" * 500):
        assert admin.get("/admin/accounts", params={"q": query}, status="*").status_int == 200


def test_an_accounts_events_are_shown_to_the_admin_a_page_at_a_time(admin_app, admin):
    alice_id = create_account(admin_app, ALICE, STRONG_PASSWORD)
    with db(admin_app) as session, session.begin():
        audit = services(admin_app, session).audit
        for _ in range(30):
            audit.record(events.SIGN_OUT, alice_id)

    first = admin.get(f"/admin/accounts/{alice_id}")
    second = admin.get(f"/admin/accounts/{alice_id}?page=2")

    assert "Page 1 of 2" in first.text and "Page 2 of 2" in second.text
    assert first.text.count("Signed out") == 25 and second.text.count("Signed out") == 5


def test_the_account_list_shows_the_search_it_applied(admin_app, admin):
    create_account(admin_app, ALICE, STRONG_PASSWORD)

    page = admin.get("/admin/accounts", {"q": "  ALICE "})

    assert 'value="alice"' in page.text
    assert "1 account matching “alice”." in page.text
