"""The JSON API's answers when no operation's own answer applies: not signed in, not
allowed, no such operation, a method the path does not take, a request Pyramid could
not read, and the unexpected. Each in the API's one shape of errors, never a page."""

from __future__ import annotations

import logging
from typing import Any

from pyramid.httpexceptions import HTTPException, HTTPForbidden, HTTPNotFound
from pyramid.response import Response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from sqlalchemy.exc import InterfaceError, OperationalError

from app.api.errors import ApiError, Problem, error_response, problems_response
from app.api.operations import OPERATIONS
from app.i18n import locale_without_account, translated
from app.security import NeedsPasswordChange, NeedsReauthentication, NeedsSecondFactor
from app.translation import _

log = logging.getLogger(__name__)


# How each reason a signed-in request is denied answers: status, code and message.
DENIALS = (
    (
        NeedsReauthentication,
        401,
        "reauthentication_required",
        _("Confirm it is you: POST /api/v1/reauthenticate first, then try again."),
    ),
    (
        NeedsPasswordChange,
        403,
        "password_change_required",
        _("Your password was found in a data breach: change it before anything else."),
    ),
    (
        NeedsSecondFactor,
        403,
        "second_factor_required_for_admins",
        _("Administrators must turn on two-factor sign-in first."),
    ),
)


@forbidden_view_config(json_api=True)
def forbidden(exc: HTTPForbidden, request: Any) -> Response:
    if request.identity is None:
        return _refuse(request, 401, "not_signed_in", _("Sign in first."))
    for reason, status, code, message in DENIALS:
        if isinstance(exc.result, reason):
            return _refuse(request, status, code, message)
    return _refuse(request, 403, "forbidden", _("Your account may not do this."))


@notfound_view_config(json_api=True)
def not_found(exc: HTTPNotFound, request: Any) -> Response:
    """404, or 405 with the methods it takes for a path that has operations."""
    route = request.matched_route.name if request.matched_route else None
    methods = sorted({op.method for op in OPERATIONS if op.route == route})
    if methods and request.method not in methods:
        response = _refuse(
            request, 405, "method_not_allowed", _("This path does not take that method.")
        )
        response.headers["Allow"] = ", ".join(methods)
        return response
    return _refuse(request, 404, "not_found", _("There is no such operation or object."))


@exception_view_config(ApiError, json_api=True)
def api_error(exc: ApiError, request: Any) -> Response:
    return error_response(request, exc)


@exception_view_config(HTTPException, json_api=True)
def http_exception(exc: HTTPException, request: Any) -> Response:
    """What Pyramid or a tween answered itself (413, 405, 400), in the API's shape."""
    code = {413: "body_too_large", 405: "method_not_allowed"}.get(exc.code or 0, "bad_request")
    response = problems_response(exc.code or 400, [Problem(code, exc.detail or exc.title)])
    if exc.code == 405 and "Allow" in exc.headers:
        response.headers["Allow"] = exc.headers["Allow"]
    return response


@exception_view_config(UnicodeDecodeError, json_api=True)
def bad_encoding(exc: UnicodeDecodeError, request: Any) -> Response:
    return _refuse(request, 400, "bad_encoding", _("The request is not valid UTF-8."))


@exception_view_config(OperationalError, json_api=True)
@exception_view_config(InterfaceError, json_api=True)
def database_unavailable(exc: Exception, request: Any) -> Response:
    log.warning("Database unavailable: %s", type(getattr(exc, "orig", exc)).__name__)
    request.login_session = None
    if "locale_name" not in vars(request):
        request.locale_name = locale_without_account(request)
    response = _refuse(request, 503, "unavailable", _("Try again in a moment."))
    response.headers["Retry-After"] = "30"
    return response


@exception_view_config(Exception, json_api=True)
def server_error(exc: Exception, request: Any) -> Response:
    # Logged without the body: it may hold a password or a code.
    route = request.matched_route.name if request.matched_route else "-"
    log.error("Unhandled %s on %s %s", type(exc).__name__, request.method, route, exc_info=exc)
    request.login_session = None
    request.locale_name = locale_without_account(request)
    return _refuse(request, 500, "server_error", _("Something went wrong. Try again in a moment."))


def _refuse(request: Any, status: int, code: str, message: str) -> Response:
    return problems_response(status, [Problem(code, translated(request, message))])
