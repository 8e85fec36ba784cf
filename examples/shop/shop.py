"""A shop that signs people in with the accounts' OpenID Connect provider: the code
flow with PKCE, ID tokens checked against the provider's keys, sessions of its own
kept in memory, and back-channel logout. Settings come from the environment:
ISSUER, CLIENT_ID, CLIENT_SECRET, SHOP_URL and PORT (see README.md)."""

from __future__ import annotations

import os
import secrets
from functools import cache
from html import escape
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from waitress import serve

ISSUER = os.environ.get("ISSUER", "http://localhost:6543")
CLIENT_ID = os.environ.get("CLIENT_ID", "")
CLIENT_SECRET = os.environ.get("CLIENT_SECRET", "")
PORT = int(os.environ.get("PORT", "8000"))
SHOP_URL = os.environ.get("SHOP_URL", f"http://localhost:{PORT}")
COOKIE, LOGIN_COOKIE = "shop_session", "shop_login"
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"

SESSIONS: dict[str, dict[str, str]] = {}  # cookie -> {sub, email, sid, id_token, acr}
LOGINS: dict[str, dict[str, str]] = {}  # state -> {nonce, code_verifier}


@cache
def provider() -> dict[str, Any]:
    found: dict[str, Any] = (
        httpx.get(f"{ISSUER}/.well-known/openid-configuration").raise_for_status().json()
    )
    if found["issuer"] != ISSUER:
        raise RuntimeError(f"ISSUER is {ISSUER}, but the provider says {found['issuer']}")
    return found


def oauth_client() -> OAuth2Client:
    return OAuth2Client(
        CLIENT_ID,
        CLIENT_SECRET,
        scope="openid email",
        redirect_uri=f"{SHOP_URL}/callback",
        code_challenge_method="S256",
    )


def verify(token: str, typ: str | None = None, **claims: Any) -> dict[str, Any]:
    """The claims of a token the provider signed for this shop; JoseError if not."""
    keys = KeySet.import_key_set(httpx.get(provider()["jwks_uri"]).raise_for_status().json())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    if typ is not None and decoded.header.get("typ") != typ:
        raise JoseError(f"not a {typ}")
    jwt.JWTClaimsRegistry(
        leeway=30,
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": CLIENT_ID},
        exp={"essential": True},
        iat={"essential": True},
        **claims,
    ).validate(decoded.claims)
    return decoded.claims


def page(body: str, status: int = 200) -> Response:
    html = f'<!doctype html><html lang="en"><title>Shop</title><h1>The shop</h1>{body}</html>'
    response = Response(html, status=status, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


def home(request: Request) -> Response:
    session = SESSIONS.get(request.cookies.get(COOKIE, ""))
    mfa_link = '<p><a href="/sign-in?acr=mfa">Sign in with a second factor</a></p>'
    if session is None:
        sign_in_link = '<p><a href="/sign-in">Sign in with the shop&#39;s account</a></p>'
        return page(f"<p>You are signed out.</p>{sign_in_link}{mfa_link}")
    return page(
        f"<p>Signed in as {escape(session['email'])}</p><p>acr: {escape(session['acr'])}</p>"
        f'{mfa_link}<form method="post" action="/sign-out"><button>Sign out</button></form>'
    )


def sign_in(request: Request) -> Response:
    verifier, nonce = generate_token(48), secrets.token_urlsafe()
    extra = {"acr_values": "mfa"} if request.GET.get("acr") == "mfa" else {}
    url, state = oauth_client().create_authorization_url(
        provider()["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra
    )
    LOGINS[state] = {"nonce": nonce, "code_verifier": verifier}
    response = Response(status=303, location=url)
    response.set_cookie(LOGIN_COOKIE, state, httponly=True, samesite="Lax", max_age=600)
    return response


def callback(request: Request) -> Response:
    state = request.GET.get("state", "")
    login = LOGINS.pop(state, None)
    if login is None or request.cookies.get(LOGIN_COOKIE) != state:
        return page("<p>That sign-in is not this browser's.</p>", 400)
    if request.GET.get("iss") != ISSUER:
        return page("<p>That answer is not from the shop's account provider.</p>", 400)
    if "error" in request.GET:
        return page(f"<p>Not signed in: {escape(request.GET['error'])}</p>", 400)
    try:
        token = oauth_client().fetch_token(
            provider()["token_endpoint"],
            code=request.GET.get("code", ""),
            code_verifier=login["code_verifier"],
        )
        claims = verify(token["id_token"], nonce={"essential": True, "value": login["nonce"]})
    except (OAuthError, JoseError) as error:
        return page(f"<p>Not signed in: {escape(str(error))}</p>", 400)
    SESSIONS.pop(request.cookies.get(COOKIE, ""), None)
    cookie = secrets.token_urlsafe(32)
    SESSIONS[cookie] = {
        "sub": claims["sub"],
        "email": claims.get("email", claims["sub"]),
        "sid": claims.get("sid", ""),
        "id_token": token["id_token"],
        "acr": claims.get("acr", ""),
    }
    response = Response(status=303, location="/")
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="Lax")
    response.delete_cookie(LOGIN_COOKIE)
    return response


def sign_out(request: Request) -> Response:
    session = SESSIONS.pop(request.cookies.get(COOKIE, ""), None)
    response = Response(status=303, location="/")
    if session is not None:
        query = {"id_token_hint": session["id_token"], "post_logout_redirect_uri": f"{SHOP_URL}/"}
        response.location = f"{provider()['end_session_endpoint']}?{urlencode(query)}"
    response.delete_cookie(COOKIE)
    return response


def backchannel_logout(request: Request) -> Response:
    try:
        claims = verify(request.POST.get("logout_token", ""), typ="logout+jwt")
        events = claims.get("events")
        if not isinstance(events, dict) or BACKCHANNEL_EVENT not in events or "nonce" in claims:
            raise JoseError("not a logout token")
        if not claims.get("sid") and not claims.get("sub"):
            raise JoseError("neither sid nor sub")
    except (JoseError, ValueError, TypeError):
        return Response(
            json_body={"error": "invalid_request"}, status=400, cache_control="no-store"
        )
    key, value = ("sid", claims["sid"]) if claims.get("sid") else ("sub", claims["sub"])
    for cookie, session in list(SESSIONS.items()):
        if session[key] == value:
            SESSIONS.pop(cookie, None)
    return Response(status=200, cache_control="no-store")


def make_app() -> Any:
    config = Configurator()
    for path, view, method in [
        ("/", home, "GET"),
        ("/sign-in", sign_in, "GET"),
        ("/callback", callback, "GET"),
        ("/sign-out", sign_out, "POST"),
        ("/backchannel-logout", backchannel_logout, "POST"),
    ]:
        config.add_route(view.__name__, path)
        config.add_view(view, route_name=view.__name__, request_method=method)
    return config.make_wsgi_app()


if __name__ == "__main__":
    serve(make_app(), listen=f"localhost:{PORT}")
