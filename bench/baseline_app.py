"""The baseline: the smallest Pyramid app that answers a fixed HTML page of about the
size of the sign-in page. Served by the same waitress settings as the app, it shows what
the server and the framework cost before the app does anything.

For the token endpoint it also answers POST /token the way the app answers a refresh
grant, without the database and without signing: the form and the Basic credentials
read, an answer of the same fields and size (an access token shaped like the app's JWT,
its claims JSON-encoded, a fixed string where the RS256 signature goes; a new random
refresh token) as JSON, not to be cached."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.router import Router

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Sign in &middot; Accounts</title>
  <link rel="stylesheet" href="/static/site.css">
</head>
<body>
  <header class="site-header">
    <nav class="nav" aria-label="Main">
      <a class="brand" href="/">Accounts</a>
      <ul class="nav-links">
        <li><a href="/account/signin">Sign in</a></li>
        <li><a href="/account/register">Register</a></li>
      </ul>
    </nav>
  </header>
  <main class="content" id="main">
    <div class="card">
      <h1>Sign in</h1>
      <form method="post" action="/account/signin" novalidate>
        <input type="hidden" name="csrf_token" value="0123456789abcdef0123456789abcdef01234567">
        <input type="hidden" name="came_from" value="/account">
        <label for="email">Email address</label>
        <input id="email" name="email" type="email" value="" autocomplete="username" required>
        <label for="password">Password</label>
        <input id="password" name="password" type="password" required>
        <button type="submit" class="button">Sign in</button>
      </form>
      <p class="aside"><a href="/account/forgot_password">Forgot your password?</a></p>
    </div>
  </main>
  <footer class="site-footer">
    <p>Accounts &middot; your password is stored only as a salted argon2id hash.</p>
  </footer>
</body>
</html>
"""


TOKEN_ISSUER = "https://accounts.bench.example.com"
TOKEN_SCOPE = "openid offline_access"
TOKEN_LIFETIME = 900


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# The app's access token header names its key by its 43-character thumbprint; an RS256
# signature with a 2048-bit key is 256 bytes, 342 characters of base64url.
TOKEN_HEADER = _base64url(_json({"alg": "RS256", "kid": "k" * 43, "typ": "at+jwt"}))
TOKEN_SIGNATURE = _base64url(bytes(256))


def page(request: Request) -> Response:
    return Response(PAGE, content_type="text/html", charset="utf-8")


def _json_response(body: object, status: int = 200) -> Response:
    response = Response(
        body=_json(body), status=status, content_type="application/json", charset="utf-8"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _basic_client_id(request: Request) -> str | None:
    scheme, _space, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client_id, _colon, secret = decoded.partition(":")
    return client_id if client_id and secret else None


def token(request: Request) -> Response:
    client_id = _basic_client_id(request)
    if client_id is None:
        return _json_response({"error": "invalid_client"}, 401)
    form = request.POST
    if form.get("grant_type") != "refresh_token" or not form.get("refresh_token"):
        return _json_response({"error": "invalid_request"}, 400)
    now = int(time.time())
    claims = {
        "iss": TOKEN_ISSUER,
        "sub": secrets.token_urlsafe(16),
        "aud": client_id,
        "client_id": client_id,
        "iat": now,
        "exp": now + TOKEN_LIFETIME,
        "jti": secrets.token_urlsafe(16),
        "scope": TOKEN_SCOPE,
        "auth_time": now,
        "acr": "pwd",
        "amr": ["pwd"],
        "sid": secrets.token_hex(16),
    }
    access_token = f"{TOKEN_HEADER}.{_base64url(_json(claims))}.{TOKEN_SIGNATURE}"
    return _json_response(
        {
            "token_type": "Bearer",
            "access_token": access_token,
            "expires_in": TOKEN_LIFETIME,
            "scope": TOKEN_SCOPE,
            "refresh_token": secrets.token_urlsafe(32),
        }
    )


def make_app() -> Router:
    with Configurator() as config:
        config.add_route("page", "/")
        config.add_view(page, route_name="page", request_method="GET")
        config.add_route("token", "/token")
        config.add_view(token, route_name="token", request_method="POST")
    return config.make_wsgi_app()
