"""Cross-origin calls to the JSON API (docs/security.md 69): only from the origins of
`api.allowed_origins`, named one by one (never `*`), with credentials, so a shop's
single-page app on another origin of the same site can use browser mode. Any other
origin gets no CORS header, and its browser keeps the answer from it."""

from __future__ import annotations

from collections.abc import Callable

from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import EXCVIEW

from app.api.errors import Problem, problems_response
from app.web.request import is_api_request

ALLOWED_METHODS = "GET, POST, PUT, DELETE"
ALLOWED_HEADERS = "Authorization, Content-Type, X-CSRF-Token, Accept-Language"
# How long a browser may keep a preflight's answer.
PREFLIGHT_MAX_AGE = "600"


def cors_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    allowed = frozenset(registry["app_settings"].api_allowed_origins)

    def cors_tween(request: Request) -> Response:
        if not is_api_request(request):
            return handler(request)
        origin = request.headers.get("Origin")
        known = origin is not None and origin.lower() in allowed
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = _preflight(known)
        else:
            response = handler(request)
        response.vary = sorted({*(response.vary or ()), "Origin"})
        if known:
            response.headers["Access-Control-Allow-Origin"] = str(origin)
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        return response

    return cors_tween


def _preflight(known: bool) -> Response:
    if not known:
        return problems_response(
            403, [Problem("origin_not_allowed", "This origin may not call the API.")]
        )
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response


def includeme(config: Configurator) -> None:
    # Outside the body limit and the exception views, so that a 413 or a refusal
    # reaches the page that sent the request.
    config.add_tween(
        "app.api.cors.cors_tween_factory",
        under="app.web.headers.security_headers_tween_factory",
        over=("app.web.body_limit.body_limit_tween_factory", EXCVIEW),
    )
