"""Every view's permission, read from the app's registry and compared with the table of
what each action needs: a view missing from the table, or with another permission,
fails (as tests/functional/test_csrf.py does for the CSRF check). Then what each kind
of permission does to a request that lacks it, on the actions whose tests were missing."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from pyramid.config import Configurator
from sqlalchemy import select

from app.models import Account
from app.security import (
    PERMISSION_ADMIN,
    PERMISSION_ADMIN_ACTION,
    PERMISSION_RECENTLY_SIGNED_IN,
    PERMISSION_SIGNED_IN,
)
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, set_up_totp, sign_in
from tests.support import form_by_action

PUBLIC = None
SIGNED_IN = PERMISSION_SIGNED_IN
RECENT = PERMISSION_RECENTLY_SIGNED_IN
ADMIN = PERMISSION_ADMIN
ADMIN_ACTION = PERMISSION_ADMIN_ACTION

# (route, method, match_param) -> permission. Sensitive changes need a recent sign-in
# (RECENT); every administrator's action needs one too (ADMIN_ACTION).
EXPECTED: dict[tuple[str, str, str | None], str | None] = {
    ("account", "GET", None): SIGNED_IN,
    ("account.activity", "GET", None): SIGNED_IN,
    ("account.apps", "GET", None): SIGNED_IN,
    ("account.apps.disconnect", "POST", None): SIGNED_IN,
    ("account.change_email", "GET", None): RECENT,
    ("account.change_email", "POST", None): RECENT,
    ("account.change_email_sent", "GET", None): SIGNED_IN,
    ("account.change_password", "GET", None): SIGNED_IN,
    ("account.change_password", "POST", None): SIGNED_IN,
    ("account.confirm_email", "GET", None): PUBLIC,
    ("account.confirm_email", "POST", None): PUBLIC,
    ("account.confirm_email_link", "GET", None): PUBLIC,
    ("account.export", "GET", None): RECENT,
    ("account.export", "POST", None): RECENT,
    ("api.session.email_code", "POST", None): PUBLIC,
    ("api.session.email_code.verify", "POST", None): PUBLIC,
    ("brand.logo", "GET", None): PUBLIC,
    ("brand.theme", "GET", None): PUBLIC,
    ("account.signin.email_code", "GET", None): PUBLIC,
    ("account.signin.email_code", "POST", None): PUBLIC,
    ("account.signin.email_code.verify", "GET", None): PUBLIC,
    ("account.signin.email_code.verify", "POST", None): PUBLIC,
    ("account.name", "GET", None): SIGNED_IN,
    ("account.name", "POST", None): SIGNED_IN,
    ("account.delete", "GET", None): RECENT,
    ("account.delete", "POST", None): RECENT,
    ("account.deleted", "GET", None): PUBLIC,
    ("account.restore", "GET", None): PUBLIC,
    ("account.restore", "POST", None): PUBLIC,
    ("account.restore_link", "GET", None): PUBLIC,
    ("account.forgot_password", "GET", None): PUBLIC,
    ("account.forgot_password", "POST", None): PUBLIC,
    ("account.logout", "GET", None): PUBLIC,
    ("account.logout", "POST", None): PUBLIC,
    ("account.not_me", "GET", None): PUBLIC,
    ("account.not_me", "POST", None): PUBLIC,
    ("account.not_me_link", "GET", None): PUBLIC,
    ("account.passkeys", "GET", None): SIGNED_IN,
    ("account.passkeys.add", "POST", None): RECENT,
    ("account.passkeys.add_options", "POST", None): RECENT,
    ("account.passkeys.delete", "POST", None): RECENT,
    ("account.passkeys.rename", "POST", None): SIGNED_IN,
    ("account.reauthenticate", "GET", None): SIGNED_IN,
    ("account.reauthenticate", "POST", None): SIGNED_IN,
    ("account.reauthenticate.passkey", "POST", None): SIGNED_IN,
    ("account.reauthenticate.passkey_options", "POST", None): SIGNED_IN,
    ("account.reauthenticate.upstream", "POST", None): SIGNED_IN,
    ("account.reauthenticate.upstream_code", "GET", None): SIGNED_IN,
    ("account.reauthenticate.upstream_code", "POST", None): SIGNED_IN,
    ("account.register", "GET", None): PUBLIC,
    ("account.register", "POST", None): PUBLIC,
    ("account.reset_password", "GET", None): PUBLIC,
    ("account.reset_password", "POST", None): PUBLIC,
    ("account.reset_password_link", "GET", None): PUBLIC,
    ("account.reset_sent", "GET", None): PUBLIC,
    ("account.sessions", "GET", None): SIGNED_IN,
    ("account.sessions.revoke", "POST", None): SIGNED_IN,
    ("account.sessions.revoke_others", "POST", None): SIGNED_IN,
    ("account.signin", "GET", None): PUBLIC,
    ("account.signin", "POST", None): PUBLIC,
    ("account.signin.passkey", "POST", None): PUBLIC,
    ("account.signin.passkey_options", "POST", None): PUBLIC,
    ("account.signin_methods", "GET", None): SIGNED_IN,
    ("account.signin_methods.link", "POST", None): RECENT,
    ("account.signin_methods.password", "POST", None): SIGNED_IN,
    ("account.signin_methods.unlink", "POST", None): RECENT,
    ("account.signin.upstream", "POST", None): PUBLIC,
    ("account.signin.upstream_callback", "GET", None): PUBLIC,
    ("account.signin.upstream_link", "GET", None): PUBLIC,
    ("account.signin.upstream_link", "POST", None): PUBLIC,
    ("account.signin.upstream_new", "GET", None): PUBLIC,
    ("account.signin.upstream_new", "POST", None): PUBLIC,
    ("account.signin.two_factor", "GET", None): PUBLIC,
    ("account.signin.two_factor", "POST", None): PUBLIC,
    ("account.signin.two_factor_passkey", "POST", None): PUBLIC,
    ("account.signin.two_factor_passkey_options", "POST", None): PUBLIC,
    ("account.two_factor", "GET", None): SIGNED_IN,
    ("account.undo_email_change", "GET", None): PUBLIC,
    ("account.undo_email_change", "POST", None): PUBLIC,
    ("account.undo_email_change_link", "GET", None): PUBLIC,
    ("account.two_factor.recovery_codes", "POST", None): RECENT,
    ("account.two_factor.totp", "GET", None): RECENT,
    ("account.two_factor.totp", "POST", None): RECENT,
    ("account.two_factor.totp_disable", "POST", None): RECENT,
    ("account.verify_email", "GET", None): PUBLIC,
    ("account.verify_email", "POST", None): PUBLIC,
    ("account.verify_email_link", "GET", None): PUBLIC,
    ("account.verify_sent", "GET", None): PUBLIC,
    ("admin.account", "GET", None): ADMIN,
    ("admin.account.action", "GET", "action=disable"): ADMIN_ACTION,
    ("admin.account.action", "POST", "action=disable"): ADMIN_ACTION,
    ("admin.account.action", "GET", "action=delete"): ADMIN_ACTION,
    ("admin.account.action", "POST", "action=delete"): ADMIN_ACTION,
    ("admin.account.action", "POST", "action=enable"): ADMIN_ACTION,
    ("admin.account.action", "GET", "action=remove_two_factor"): ADMIN_ACTION,
    ("admin.account.action", "POST", "action=remove_two_factor"): ADMIN_ACTION,
    ("admin.account.action", "POST", "action=role"): ADMIN_ACTION,
    ("admin.account.action", "POST", "action=send_invitation"): ADMIN_ACTION,
    ("admin.account.action", "POST", "action=send_reset"): ADMIN_ACTION,
    ("admin.accounts", "GET", None): ADMIN,
    ("admin.accounts.new", "GET", None): ADMIN,
    ("admin.accounts.new", "POST", None): ADMIN_ACTION,
    ("admin.client", "GET", None): ADMIN,
    ("admin.client", "POST", None): ADMIN_ACTION,
    ("admin.client.action", "GET", "action=remove"): ADMIN_ACTION,
    ("admin.client.action", "POST", "action=remove"): ADMIN_ACTION,
    ("admin.client.action", "POST", "action=rotate_secret"): ADMIN_ACTION,
    ("admin.clients", "GET", None): ADMIN,
    ("admin.clients.new", "GET", None): ADMIN,
    ("admin.clients.new", "POST", None): ADMIN_ACTION,
    ("healthz", "GET", None): PUBLIC,
    ("healthz", "HEAD", None): PUBLIC,
    ("home", "GET", None): PUBLIC,
    ("language", "POST", None): PUBLIC,
    ("metrics", "GET", None): PUBLIC,
    ("readyz", "GET", None): PUBLIC,
    ("readyz", "HEAD", None): PUBLIC,
    # The identity provider: it signs the person in itself when needed, and its token
    # endpoints authenticate the calling application, not a browser.
    ("oidc.authorize", "GET", None): PUBLIC,
    ("oidc.authorize", "POST", None): PUBLIC,
    ("oidc.discovery", "GET", None): PUBLIC,
    ("oidc.introspect", "GET", None): PUBLIC,
    ("oidc.introspect", "POST", None): PUBLIC,
    ("oidc.jwks", "GET", None): PUBLIC,
    ("oidc.logout", "GET", None): PUBLIC,
    ("oidc.logout", "POST", None): PUBLIC,
    ("oidc.revoke", "GET", None): PUBLIC,
    ("oidc.revoke", "POST", None): PUBLIC,
    ("oidc.token", "GET", None): PUBLIC,
    ("oidc.token", "POST", None): PUBLIC,
    ("oidc.userinfo", "GET", None): PUBLIC,
    ("oidc.userinfo", "POST", None): PUBLIC,
    # The JSON API: the same permissions as the pages of the same actions.
    ("api.openapi", "GET", None): PUBLIC,
    ("api.session", "GET", None): PUBLIC,
    ("api.session", "POST", None): PUBLIC,
    ("api.session", "DELETE", None): PUBLIC,
    ("api.session.second_factor", "POST", None): PUBLIC,
    ("api.accounts", "POST", None): PUBLIC,
    ("api.email.confirm", "POST", None): PUBLIC,
    ("api.password.forgot", "POST", None): PUBLIC,
    ("api.password.reset", "POST", None): PUBLIC,
    ("api.account", "GET", None): SIGNED_IN,
    ("api.account.export", "GET", None): RECENT,
    ("api.account", "DELETE", None): RECENT,
    ("api.password.change", "POST", None): SIGNED_IN,
    ("api.email.change", "POST", None): RECENT,
    ("api.reauthenticate", "POST", None): SIGNED_IN,
    ("api.sessions", "GET", None): SIGNED_IN,
    ("api.sessions.one", "DELETE", None): SIGNED_IN,
    ("api.activity", "GET", None): SIGNED_IN,
    ("api.two_factor.totp", "POST", None): RECENT,
    ("api.two_factor.totp", "PUT", None): RECENT,
    ("api.two_factor.totp", "DELETE", None): RECENT,
    ("api.two_factor.recovery_codes", "POST", None): RECENT,
    ("api.passkeys", "GET", None): SIGNED_IN,
    ("api.passkeys.one", "PUT", None): SIGNED_IN,
    ("api.passkeys.one", "DELETE", None): RECENT,
    ("api.session.passkey_options", "POST", None): PUBLIC,
    ("api.session.passkey", "POST", None): PUBLIC,
    ("api.session.second_factor.passkey_options", "POST", None): PUBLIC,
    ("api.session.second_factor.passkey", "POST", None): PUBLIC,
    ("api.reauthenticate.passkey_options", "POST", None): SIGNED_IN,
    ("api.reauthenticate.passkey", "POST", None): SIGNED_IN,
    ("api.passkeys.options", "POST", None): RECENT,
    ("api.passkeys", "POST", None): RECENT,
}


def registered_views(wsgi_app: Any) -> dict[tuple[str, str, str | None], str | None]:
    """Every view reached by a route, with the permission it was registered with."""
    found: dict[tuple[str, str, str | None], str | None] = {}
    for item in wsgi_app.registry.introspector.get_category("views"):
        view = item["introspectable"]
        route = view["route_name"]
        if route is None or route.startswith("__static"):
            continue
        methods = view["request_methods"]
        methods = (methods,) if isinstance(methods, str) else methods
        assert methods, f"{route}: a view answers every method"
        permissions = [r.discriminator for r in item["related"] if r.category_name == "permissions"]
        match = view["match_param"]
        match = match if match is None or isinstance(match, str) else ",".join(match)
        for method in methods:
            found[(route, method, match)] = permissions[0] if permissions else None
    return found


def test_every_view_has_the_permission_the_table_gives_its_action(wsgi_app):
    assert registered_views(wsgi_app) == EXPECTED


def test_a_view_registered_with_another_permission_makes_the_check_fail(make_app, app_settings):
    loose = make_app(app_settings)
    config = Configurator(registry=loose.registry)
    config.add_view(
        lambda request: {},
        route_name="admin.account.action",
        match_param="action=remove_two_factor",
        request_method="POST",
        permission=PERMISSION_SIGNED_IN,
        renderer="json",
    )
    config.commit()
    found = registered_views(loose)
    assert found[("admin.account.action", "POST", "action=remove_two_factor")] == SIGNED_IN


# What a missing permission does, on the actions whose tests were missing


def test_registration_closed_refuses_the_post_as_well_as_the_form(make_app, app_settings):
    wsgi_app = make_app({**app_settings, "accounts.allow_registration": "false"})
    client = new_client(wsgi_app)
    client.get("/account/register", status=404)
    token_page = client.get("/account/signin")
    token = form_by_action(token_page, "/account/signin")["csrf_token"].value
    client.post(
        "/account/register",
        {
            "csrf_token": token,
            "email": "newcomer@example.com",
            "password": STRONG_PASSWORD,
            "confirm_password": STRONG_PASSWORD,
        },
        status=404,
    )


def _aged_session(wsgi_app: Any, clock: Any) -> Any:
    create_account(wsgi_app, "alice@example.com", STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, "alice@example.com", STRONG_PASSWORD)
    return client


def test_turning_the_authenticator_app_off_needs_a_recent_sign_in(wsgi_app, clock):
    client = _aged_session(wsgi_app, clock)
    set_up_totp(client, clock)
    page = client.get("/account/two_factor")
    form = form_by_action(page, "/account/two_factor/totp/disable")
    clock.advance(minutes=16)
    asked = form.submit(status=303)
    assert urlsplit(asked.location).path == "/account/reauthenticate"
    with db(wsgi_app) as session:
        assert session.scalars(select(Account.totp_secret)).one() is not None


def test_changing_the_address_needs_a_recent_sign_in_on_the_post_too(wsgi_app, clock):
    client = _aged_session(wsgi_app, clock)
    form = form_by_action(client.get("/account/change_email"), "/account/change_email")
    form["current_password"] = STRONG_PASSWORD
    form["new_email"] = "new@example.com"
    clock.advance(minutes=16)
    asked = form.submit(status=303)
    assert urlsplit(asked.location).path == "/account/reauthenticate"


def test_a_form_sent_after_the_reauthentication_limit_comes_back_to_its_own_page(wsgi_app, clock):
    """The page to come back to is the form's page when the Referer is this site (by its
    public address, or the Host the request came with); anything else goes to /account."""
    client = _aged_session(wsgi_app, clock)
    form = form_by_action(client.get("/account/change_email"), "/account/change_email")
    form["current_password"] = STRONG_PASSWORD
    form["new_email"] = "new@example.com"
    clock.advance(minutes=16)
    referrers = {
        "https://accounts.example.test/account/two_factor?tab=1": "/account/two_factor?tab=1",
        "http://localhost/account/sessions": "/account/sessions",
        "https://evil.example/account/sessions": "/account",
    }
    for referrer, page in referrers.items():
        asked = form.submit(headers={"Referer": referrer}, status=303)
        location = urlsplit(asked.location)
        assert location.path == "/account/reauthenticate"
        assert parse_qs(location.query)["came_from"] == [page], referrer
