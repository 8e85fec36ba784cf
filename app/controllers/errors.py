"""Error pages: a clear message and the right status, never a traceback."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode, urlsplit

from pyramid.exceptions import BadCSRFOrigin, BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPForbidden, HTTPNotFound
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from sqlalchemy.exc import InterfaceError, OperationalError

from app.controllers.base import see_other, too_many_response
from app.i18n import locale_without_account, translated
from app.security import NeedsPasswordChange, NeedsReauthentication, NeedsSecondFactor
from app.services.kernel.errors import RateLimited
from app.translation import _
from app.viewmodels.base import safe_redirect_path
from app.web import cookies
from app.web.request import is_api_request

log = logging.getLogger(__name__)


@notfound_view_config(renderer="app:templates/errors/error.pt")
def not_found(exc: HTTPNotFound, request: Any) -> dict[str, Any]:
    request.response.status = 404
    return {"title": _("Page not found"), "message": _("There is no page at this address.")}


@forbidden_view_config(renderer="app:templates/errors/error.pt")
def forbidden(exc: HTTPForbidden, request: Any) -> Any:
    """Anonymous visitors sign in, and come back; a session signed in too long ago for a
    sensitive page enters the password again, and comes back; an administrator without
    a second factor (where one is required) sets it up first."""
    if request.identity is None:
        query = urlencode({"came_from": request.path_qs})
        headers = _tell_why_signed_out(request)
        return see_other(request, request.page_path("account.signin") + "?" + query, headers)
    if isinstance(exc.result, NeedsReauthentication):
        query = urlencode({"came_from": _page_to_come_back_to(request)})
        return see_other(request, request.page_path("account.reauthenticate") + "?" + query)
    if isinstance(exc.result, NeedsPasswordChange):
        # The change-password page says why.
        return see_other(request, request.page_path("account.change_password"))
    if isinstance(exc.result, NeedsSecondFactor):
        request.session.flash(
            translated(
                request,
                _(
                    "Administrators must turn on two-factor sign-in before they can use the"
                    " administration pages."
                ),
            ),
            queue="error",
        )
        return see_other(request, request.page_path("account.two_factor"))
    request.response.status = 403
    return {"title": _("Not allowed"), "message": _("Your account may not open this page.")}


# What the sign-in page says to someone whose session ended, by why it ended.
SIGNED_OUT_BECAUSE = {
    "revoked": _(
        "You were signed out: this device was signed out from another one, or by a change"
        " of password. Sign in again."
    ),
    "expired": _("You were signed out after a while without using the site. Sign in again."),
    "disabled": _("You were signed out: an administrator disabled this account."),
    "deleting": _("You were signed out: this account is being deleted."),
}


def _tell_why_signed_out(request: Any) -> list[tuple[str, str]]:
    """A browser sent back to sign in with the cookie of a session that ended is told
    why, once: the cookie goes with the redirect."""
    name = request.app_cookies.name(cookies.AUTH)
    token = request.cookies.get(name)
    if not token or is_api_request(request):
        return []
    reason = request.services.login_sessions.why_ended(token)
    if reason is not None:
        request.session.flash(translated(request, SIGNED_OUT_BECAUSE[reason]), queue="error")
    return [request.app_cookies.deletion(cookies.AUTH)]


def _page_to_come_back_to(request: Any) -> str:
    """After re-authentication: the page asked for, or for a form sent to a sensitive
    action, the page the form was on (its data is not replayed)."""
    if request.method == "GET":
        return str(request.path_qs)
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == urlsplit(request.app_settings.base_url).netloc or (
        referrer.netloc == request.host
    ):
        return safe_redirect_path(referrer.path + ("?" + referrer.query if referrer.query else ""))
    return request.page_path("account")


@exception_view_config(BadCSRFToken, renderer="app:templates/errors/error.pt")
def bad_csrf_token(exc: BadCSRFToken, request: Any) -> dict[str, Any]:
    request.response.status = 400
    return {
        "title": _("The form has expired"),
        "message": _("Go back, reload the page and send the form again."),
    }


@exception_view_config(BadCSRFOrigin, renderer="app:templates/errors/error.pt")
def bad_csrf_origin(exc: BadCSRFOrigin, request: Any) -> dict[str, Any]:
    log.warning("Form refused: %s", exc)
    request.response.status = 400
    return {
        "title": _("The form came from another site"),
        "message": _("Open this site's own page, and send the form from there."),
    }


@exception_view_config(RateLimited, renderer="app:templates/errors/too_many.pt")
def rate_limited(exc: RateLimited, request: Any) -> dict[str, Any]:
    return too_many_response(request, exc)


@exception_view_config(UnicodeDecodeError, renderer="app:templates/errors/error.pt")
def bad_encoding(exc: UnicodeDecodeError, request: Any) -> dict[str, Any]:
    request.response.status = 400
    return {
        "title": _("Unreadable request"),
        "message": _("The address or the form contained characters that are not valid UTF-8."),
    }


@exception_view_config(HTTPException)
def http_exception(exc: HTTPException, request: Any) -> HTTPException:
    return exc


@exception_view_config(OperationalError, renderer="app:templates/errors/unavailable.pt")
@exception_view_config(InterfaceError, renderer="app:templates/errors/unavailable.pt")
def database_unavailable(exc: Exception, request: Any) -> dict[str, Any]:
    # A page of its own, which does not touch the database (no signed-in menu).
    log.warning("Database unavailable: %s", type(getattr(exc, "orig", exc)).__name__)
    if "locale_name" not in vars(request):
        # Without the signed-in account's stored language, which is in the database.
        request.locale_name = locale_without_account(request)
    request.response.status = 503
    request.response.headers["Retry-After"] = "30"
    return {}


@exception_view_config(Exception, renderer="app:templates/errors/error.pt")
def server_error(exc: Exception, request: Any) -> dict[str, Any]:
    # Logged without the request's URL or body: they may hold a code or a password.
    route = request.matched_route.name if request.matched_route else "-"
    log.error("Unhandled %s on %s %s", type(exc).__name__, request.method, route, exc_info=exc)
    # The page itself reads nothing from the database, whose transaction may be the
    # broken part (a failed flush leaves it unusable until rolled back, which pyramid_tm
    # does after this view): no signed-in menu, the language from the browser alone
    # (docs/security.md 58).
    request.login_session = None
    request.locale_name = locale_without_account(request)
    request.response.status = 500
    return {
        "title": _("Something went wrong"),
        "message": _("The page could not be shown. Please try again in a moment."),
    }
