"""The two ways into the JSON API (docs/security.md 69).

App mode, for a phone app or a server: the session token travels as `Authorization:
Bearer <token>` and opens only a session of kind `app`; no cookie is read or set, and no
CSRF token is needed, because a browser never sends that header by itself. A request
with no credentials at all (signing in, registering) is in app mode too: its answer
carries the token, which only the caller can read.

Browser mode, for a single-page app on the same site: the session cookie, as the HTML
pages use it. A request that carries one of the site's cookies, or an `X-CSRF-Token`,
is in browser mode, and every unsafe method must then send the CSRF token that
`GET /api/v1/session` answers, in `X-CSRF-Token`."""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

from pyramid.csrf import check_csrf_origin, check_csrf_token

from app.api.errors import ApiError
from app.i18n import translated
from app.translation import _
from app.web import cookies
from app.web.authorization import bearer_token
from app.web.request import AppRequest

CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Mode(StrEnum):
    APP = "app"
    BROWSER = "browser"


def mode_of(request: AppRequest) -> Mode:
    if bearer_token(request) is not None:
        return Mode.APP
    if CSRF_HEADER in request.headers:
        return Mode.BROWSER
    names = request.app_cookies
    if any(names.name(kind) in request.cookies for kind in (cookies.SESSION, cookies.AUTH)):
        return Mode.BROWSER
    return Mode.APP


def guard(request: AppRequest) -> Mode:
    """The request's mode, after the CSRF check a browser's unsafe request must pass."""
    mode = mode_of(request)
    if mode is Mode.BROWSER and request.method not in SAFE_METHODS:
        # The site's own origin, and the shop's pages allowed to call the API (a fresh
        # list: Pyramid adds the request's own host to it).
        trusted = [
            *request.registry.settings.get("pyramid.csrf_trusted_origins", []),
            *(urlsplit(origin).netloc for origin in request.app_settings.api_allowed_origins),
        ]
        good = check_csrf_origin(request, trusted_origins=trusted, raises=False) and (
            check_csrf_token(request, token=None, header=CSRF_HEADER, raises=False)
        )
        if not good:
            raise ApiError(
                403,
                "csrf_token_invalid",
                translated(
                    request,
                    _(
                        "Send the CSRF token from GET /api/v1/session in the X-CSRF-Token"
                        " header, or sign in with a bearer token instead of cookies."
                    ),
                ),
            )
    return mode
