"""People have a name: optional at registration, changed on /account/name, shown on the
account and administration pages and in emails' greetings, escaped everywhere, bounded,
and given to applications as the `name` claim of the `profile` scope."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Account
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, deliver_mail, forgot_password, sign_in
from tests.functional.oidc_flows import Pkce, decode, exchange, register_client
from tests.functional.oidc_flows import sign_in_and_authorize as authorize
from tests.support import form_by_action

ALICE = "alice@example.com"
MARKUP = '<b onmouseover="x()">Ana</b> & Co'


def _name(app) -> str | None:
    with db(app) as session:
        return session.scalars(select(Account.display_name)).one()


def _set_name(client, name: str, status: int = 303):
    page = client.get("/account/name")
    form = form_by_action(page, "/account/name")
    form["display_name"] = name
    return form.submit(status=status)


def test_a_name_given_at_registration_greets_its_owner_in_emails(wsgi_app, smtp_server):
    page = new_client(wsgi_app).get("/account/register")
    form = form_by_action(page, "/account/register")
    form["display_name"] = "  Ana   María "
    form["email"] = ALICE
    form["password"] = form["confirm_password"] = STRONG_PASSWORD
    form.submit(status=303)
    assert _name(wsgi_app) == "Ana María"
    deliver_mail(wsgi_app)
    [welcome] = smtp_server.mailbox.to(ALICE)
    assert "Hello Ana María," in welcome.text


def test_a_registration_of_a_taken_address_changes_no_name(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    page = new_client(wsgi_app).get("/account/register")
    form = form_by_action(page, "/account/register")
    form["display_name"] = "Mallory"
    form["email"] = ALICE
    form["password"] = form["confirm_password"] = STRONG_PASSWORD
    form.submit(status=303)
    assert _name(wsgi_app) is None


def test_the_owner_names_the_account_and_markup_stays_text(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    _set_name(client, MARKUP)
    assert _name(wsgi_app) == MARKUP
    page = client.get("/account")
    assert "&lt;b onmouseover=" in page.text and "<b onmouseover" not in page.text
    forgot_password(new_client(wsgi_app), ALICE)
    deliver_mail(wsgi_app)
    [reset] = smtp_server.mailbox.to(ALICE)
    assert "<b onmouseover" not in reset.html and "&lt;b onmouseover" in reset.html
    # An empty name takes it away.
    _set_name(client, "   ")
    assert _name(wsgi_app) is None


def test_a_name_is_bounded_and_holds_no_control_characters(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    assert "at most 80 characters" in _set_name(client, "x" * 81, status=400).text
    assert "letters, digits" in _set_name(client, "Ana\u202eevil", status=400).text
    assert "letters, digits" in _set_name(client, "Ana\x00", status=400).text
    assert _name(wsgi_app) is None
    _set_name(client, "x" * 80)
    assert _name(wsgi_app) == "x" * 80


def test_administrators_see_the_name(admin_app, admin):
    bob_id = create_account(admin_app, "bob@example.com", STRONG_PASSWORD)
    with db(admin_app) as session, session.begin():
        session.get(Account, bob_id).display_name = "Bob Builder"
    assert "Bob Builder" in admin.get("/admin/accounts").text
    assert "Bob Builder" in admin.get(f"/admin/accounts/{bob_id}").text


def test_applications_get_the_name_with_the_profile_scope_only(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    with db(wsgi_app) as session, session.begin():
        session.scalars(select(Account)).one().display_name = "Ana"
    client = register_client(wsgi_app)
    for scope, expected in (("openid email profile", "Ana"), ("openid email", None)):
        browser = new_client(wsgi_app)
        pkce = Pkce.new()
        params = authorize(browser, client, ALICE, STRONG_PASSWORD, pkce, scope=scope)
        tokens = exchange(browser, client, params["code"], pkce.verifier).json
        assert decode(browser, tokens["id_token"]).get("name") == expected
        info = browser.get(
            "/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        ).json
        assert info.get("name") == expected
    discovery = new_client(wsgi_app).get("/.well-known/openid-configuration").json
    assert "name" in discovery["claims_supported"]
