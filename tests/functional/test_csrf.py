"""Every POST needs the CSRF token; without it nothing changes."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from pyramid.config import Configurator
from pyramid.interfaces import IException, IRoutesMapper
from pyramid.response import Response
from sqlalchemy import func, select
from zope.interface.interfaces import IInterface

from app.models import Account, LoginSession, OneTimeCode, OutgoingEmail
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import account_service, create_account, db, form_by_action, sign_in
from tests.support import dump_database

ALICE = "alice@example.com"


@pytest.mark.parametrize("token", [None, "", "forged-token-from-another-site"])
@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("/account/register", {"email": "new@example.com", "password": STRONG_PASSWORD}),
        ("/account/signin", {"email": ALICE, "password": STRONG_PASSWORD}),
        ("/account/forgot_password", {"email": ALICE}),
        ("/account/reset_password", {"password": STRONG_PASSWORD}),
        ("/account/logout", {}),
    ],
)
def test_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(
    wsgi_app, url, fields, token
):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    client.get("/")  # a session with a real token exists, but is not sent
    body = dict(fields, confirm_password=fields.get("password", ""))
    if token is not None:
        body["csrf_token"] = token
    response = client.post(url, body, status=400)
    assert "The form has expired" in response.text
    assert "auth" not in client.cookies
    with db(wsgi_app) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 1
        assert session.scalar(select(func.count()).select_from(OneTimeCode)) == 0
        assert session.scalar(select(func.count()).select_from(OutgoingEmail)) == 0


def test_sign_out_without_the_token_keeps_the_session(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    client.post("/account/logout", {}, status=400)
    client.get("/account", status=200)


@dataclass(frozen=True)
class PostView:
    """A view that answers POST, found in the app's registry, and a URL that reaches it."""

    route: str
    path: str


def post_views(wsgi_app: Any, ids: Mapping[str, Mapping[str, str]]) -> list[PostView]:
    """Every view of the app that accepts a POST, from its own route table and view
    registry: routes added tomorrow are found without anyone listing them here.
    `ids` gives, by route name, the placeholder values that name an existing object."""
    registry = wsgi_app.registry
    routes = {route.name: route for route in registry.getUtility(IRoutesMapper).get_routes()}
    found: set[PostView] = set()
    for item in registry.introspector.get_category("views"):
        view = item["introspectable"]
        methods = view["request_methods"]
        if isinstance(methods, str):
            methods = (methods,)
        if methods is not None and "POST" not in methods:
            continue
        if view["route_name"] is None:
            if _is_error_page(view["context"]):
                continue  # shown for an exception, not reachable by a URL of its own
            # Reached by traversal from the root: /<view name>.
            found.add(PostView(f"(no route) {view['name']}", "/" + view["name"]))
            continue
        route = routes[view["route_name"]]
        values = dict(ids.get(route.name, {}))
        match_param = view["match_param"]
        if match_param:
            pairs = [match_param] if isinstance(match_param, str) else list(match_param)
            values.update(pair.split("=", 1) for pair in pairs)
        found.add(PostView(route.name, _path_for(route, values)))
    return sorted(found, key=lambda v: (v.route, v.path))


def _is_error_page(context: Any) -> bool:
    if isinstance(context, type):
        return issubclass(context, BaseException)
    return IInterface.providedBy(context) and context.isOrExtends(IException)


def _path_for(route: Any, given: Mapping[str, str]) -> str:
    """A path that the route matches, with the given placeholder values and, for the
    others, whichever of a number or a word the route accepts."""
    names = re.findall(r"\{(\w+)", route.pattern)
    if "subpath" in route.pattern:
        return route.generate({"subpath": ("site.css",)})
    for filler in ("1", "x"):
        path = route.generate({name: given.get(name, filler) for name in names})
        if route.match(path) is not None:
            return path
    raise AssertionError(f"no path found for the route {route.name} ({route.pattern})")


def _signed_in_admin(wsgi_app: Any) -> tuple[Any, dict[str, dict[str, str]]]:
    with db(wsgi_app) as session, session.begin():
        account_service(wsgi_app, session).create_account(
            "root@example.com", STRONG_PASSWORD, is_admin=True, email_verified=True
        )
    client = new_client(wsgi_app)
    sign_in(client, "root@example.com", STRONG_PASSWORD)
    with db(wsgi_app) as session:
        session_id = session.scalars(select(LoginSession.id)).one()
    # Another account to act on, so that an action is not refused for being one's own
    # before the token is even looked at.
    target = create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    return client, {
        "admin.account.action": {"id": str(target)},
        "account.sessions.revoke": {"id": str(session_id)},
    }


# POST views that take no CSRF token on purpose, each with the reason. Any other view
# registered without one makes the tests below fail.
CSRF_EXEMPT = {
    "language": "the language menu on every page, including pages that start no session:"
    " a forged POST can only set the language cookie of the browser that sends it, and"
    " carries no session cookie (SameSite=Lax), so no account is changed",
    "oidc.token": "OAuth 2.0's token endpoint, called by applications (not browsers) with"
    " their own credentials (a client secret, or a PKCE verifier); no cookie is read",
    "oidc.revoke": "RFC 7009 revocation, called by applications with their credentials;"
    " no cookie is read",
    "oidc.introspect": "RFC 7662 introspection, called by applications with their"
    " credentials; no cookie is read",
    "oidc.logout": "RP-initiated logout, which applications may POST from their own site:"
    " without this site's token the POST is only a request and shows the confirmation"
    " form (which carries the token), unless its id_token_hint names this browser's own"
    " session, exactly as the GET does",
    "oidc.userinfo": "OpenID Connect userinfo, which may be POSTed: it reads only the"
    " bearer access token and changes nothing",
}


def posts_accepted_without_a_token(wsgi_app: Any) -> list[str]:
    """The POST views that did not refuse a POST without a valid CSRF token, sent by a
    signed-in administrator (so that no permission check answers first)."""
    client, ids = _signed_in_admin(wsgi_app)
    accepted = []
    for view in post_views(wsgi_app, ids):
        if view.route in CSRF_EXEMPT:
            continue
        for token in (None, "forged-token-from-another-site"):
            with db(wsgi_app) as session:
                before = dump_database(session)
            body = {"email": "new@example.com", "password": STRONG_PASSWORD}
            if token is not None:
                body["csrf_token"] = token
            response = client.post(view.path, body, status="*", expect_errors=True)
            with db(wsgi_app) as session:
                after = dump_database(session)
            refused = (response.status_int == 400 and "The form has expired" in response.text) or (
                # The JSON API's browser mode refuses in its own shape.
                response.status_int == 403
                and response.content_type == "application/json"
                and response.json["errors"][0]["code"] == "csrf_token_invalid"
            )
            if not refused or after != before:
                accepted.append(f"{view.route} {view.path} (token {token!r}: {response.status})")
    client.get("/account", status=200)  # still signed in: the logout was refused too
    return accepted


def test_every_post_view_of_the_app_refuses_a_post_without_a_valid_csrf_token(wsgi_app):
    views = post_views(wsgi_app, {})
    # The enumeration finds at least the views a person would name.
    assert {view.route for view in views} >= {
        "account.register",
        "account.signin",
        "account.logout",
        "account.forgot_password",
        "account.reset_password",
        "account.change_password",
        "account.sessions.revoke",
        "account.sessions.revoke_others",
        "admin.accounts.new",
        "admin.account.action",
    }
    assert {v.path for v in views if v.route == "admin.account.action"} >= {
        "/admin/accounts/1/disable",
        "/admin/accounts/1/enable",
        "/admin/accounts/1/send_reset",
        "/admin/accounts/1/send_invitation",
    }

    assert posts_accepted_without_a_token(wsgi_app) == []


def test_a_post_view_registered_without_csrf_makes_the_check_fail(wsgi_app):
    """The check above, tested: a throwaway POST view added to the app without CSRF
    protection is found and reported, without anyone adding it to a list."""

    def throwaway(request):
        return Response("state changed")

    config = Configurator(registry=wsgi_app.registry)
    config.add_route("throwaway", "/throwaway/{thing}")
    config.add_view(throwaway, route_name="throwaway", request_method="POST", require_csrf=False)
    config.commit()

    assert [view.route for view in post_views(wsgi_app, {})].count("throwaway") == 1
    assert posts_accepted_without_a_token(wsgi_app) == [
        "throwaway /throwaway/1 (token None: 200 OK)",
        "throwaway /throwaway/1 (token 'forged-token-from-another-site': 200 OK)",
    ]


def test_only_the_listed_views_are_registered_without_csrf(wsgi_app):
    views = [
        item["introspectable"] for item in wsgi_app.registry.introspector.get_category("views")
    ]
    exempt = {
        view["route_name"]
        for view in views
        if view.get("require_csrf") is False and not _is_error_page(view["context"])
    }
    # The JSON API's operations check the token themselves in browser mode, from the
    # X-CSRF-Token header only (app/api/modes.py); the test above posts to them too.
    api = {route for route in exempt if route.startswith("api.")}
    assert exempt - api == set(CSRF_EXEMPT)


def test_the_language_menu_from_another_site_changes_no_account(wsgi_app):
    """What the exemption allows: a POST without the session cookie (as a browser sends
    it from another site) sets the language cookie and nothing else."""
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    with db(wsgi_app) as session:
        before = dump_database(session)
    response = new_client(wsgi_app).post("/language", {"locale": "de"}, status=303)
    assert "locale=de" in response.headers["Set-Cookie"]
    with db(wsgi_app) as session:
        assert dump_database(session) == before


def _session_cookie_set(response) -> bool:
    return any(c.startswith("session=") for c in response.headers.getall("Set-Cookie"))


def test_the_session_cookie_is_signed_again_every_two_minutes_and_lapses_after_twenty(
    wsgi_app, monkeypatch
):
    # The signed session cookie holds the CSRF token; Pyramid dates it by the wall clock.
    start = time.time()
    now = [start]
    monkeypatch.setattr(time, "time", lambda: now[0])
    client = new_client(wsgi_app)
    assert _session_cookie_set(client.get("/account/signin"))

    now[0] = start + 119
    assert not _session_cookie_set(client.get("/account/signin"))
    now[0] = start + 121
    page = client.get("/account/signin")
    assert _session_cookie_set(page)

    # Twenty minutes without a request: the form's token has lapsed with the session.
    form = form_by_action(page, "/account/signin")
    form["email"], form["password"] = ALICE, STRONG_PASSWORD
    now[0] = start + 121 + 20 * 60 + 1
    response = form.submit(status=400)
    assert "The form has expired" in response.text
