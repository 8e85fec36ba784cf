"""The language menu: the visitor's choice, kept in a cookie (and on the account of a
signed-in visitor, for the pages and emails of any other browser)."""

from __future__ import annotations

from pyramid.response import Response
from pyramid.view import view_config

from app.controllers.base import ControllerBase, see_other
from app.i18n import LOCALE_COOKIE, supported
from app.viewmodels.base import safe_redirect_path

# A year: the choice outlives sessions, like the device cookie.
LOCALE_COOKIE_SECONDS = 365 * 86400


class LanguageController(ControllerBase):
    # No CSRF token: the menu is on every page, including pages that otherwise start no
    # session. A forged request can only change the language of the visitor's pages;
    # the account is never touched from another site, whose POST carries no session
    # cookie (SameSite=Lax).
    @view_config(route_name="language", request_method="POST", require_csrf=False)
    def choose(self) -> Response:
        locale = supported(self.request.POST.get("locale"))
        back = safe_redirect_path(self.request.POST.get("came_from"), default="/")
        response = see_other(self.request, back)
        if locale is None:
            return response
        identity = self.request.identity
        if identity is not None and identity.locale != locale:
            identity.locale = locale
        response.set_cookie(
            LOCALE_COOKIE,
            locale,
            max_age=LOCALE_COOKIE_SECONDS,
            path="/",
            secure=self.request.app_settings.secure_cookies,
            httponly=True,
            samesite="Lax",
        )
        return response
