"""Who is signed in (a live row in login_sessions) and what they may do."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pyramid.config import Configurator
from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.request import Request
from pyramid.security import Allowed, Denied
from pyramid.session import JSONSerializer, SignedCookieSessionFactory

from app.models import Account
from app.settings import AppSettings
from app.web import cookies
from app.web.cookies import Cookies

SESSION_TIMEOUT_SECONDS = 1200

PERMISSION_SIGNED_IN = "signed_in"
# Signed in, and proved it recently (sessions.reauth_minutes): sensitive changes.
PERMISSION_RECENTLY_SIGNED_IN = "recently_signed_in"
PERMISSION_ADMIN = "admin"
# An administrator's action: an administrator who proved it recently.
PERMISSION_ADMIN_ACTION = "admin_action"


class NeedsReauthentication(Denied):
    """Signed in, but too long ago for this: the password is asked again."""


class NeedsPasswordChange(Denied):
    """The password was found in a known breach: it is changed before anything else."""


# The one page (and the API's one operation) a signed-in account with a breached
# password may use.
PASSWORD_CHANGE_ROUTES = frozenset({"account.change_password", "api.password.change"})


class NeedsSecondFactor(Denied):
    """An administrator without a second factor, where administrators must have one."""


class SecurityPolicy:
    def __init__(
        self, cookies: Cookies, max_age_seconds: int, *, admins_need_second_factor: bool
    ) -> None:
        self.cookies = cookies
        self.max_age_seconds = max_age_seconds
        self.admins_need_second_factor = admins_need_second_factor

    def identity(self, request: Request) -> Account | None:
        login_session = request.login_session
        return login_session.account if login_session is not None else None

    def authenticated_userid(self, request: Request) -> int | None:
        identity = request.identity
        return identity.id if identity is not None else None

    def permits(self, request: Request, context: Any, permission: str) -> Allowed | Denied:
        identity = request.identity
        if identity is None:
            return Denied("not signed in")
        if identity.password_breached_at is not None:
            route = request.matched_route.name if request.matched_route else None
            if route not in PASSWORD_CHANGE_ROUTES:
                return NeedsPasswordChange("the password is known from a breach")
        if permission == PERMISSION_SIGNED_IN:
            return Allowed("signed in")
        if permission == PERMISSION_RECENTLY_SIGNED_IN:
            return self._recently(request, Allowed("signed in recently"))
        if permission in (PERMISSION_ADMIN, PERMISSION_ADMIN_ACTION):
            if not identity.is_admin:
                return Denied("administrators only")
            two_factor = request.services.two_factor
            if self.admins_need_second_factor and not two_factor.has_second_factor(identity):
                return NeedsSecondFactor("administrators must have a second factor")
            if permission == PERMISSION_ADMIN_ACTION:
                return self._recently(request, Allowed("administrator, recently signed in"))
            return Allowed("administrator")
        return Denied(f"unknown permission {permission!r}")

    @staticmethod
    def _recently(request: Request, allowed: Allowed) -> Allowed | Denied:
        if request.services.login_sessions.is_recently_authenticated(request.login_session):
            return allowed
        return NeedsReauthentication("signed in too long ago for this")

    def remember(self, request: Request, userid: Any, **kw: Any) -> list[tuple[str, str]]:
        """The cookies of a session the sign-in flow started: keywords token,
        device_token and persistent (controllers/signin_steps.py passes them).

        "Remember me" unchecked: the cookie ends with the browser (the session still
        ends after the idle limit on the server); checked: it lasts as long as the
        session may. The device cookie marks this browser as known to the account."""
        max_age = self.max_age_seconds if kw["persistent"] else None
        return [
            self.cookies.header(cookies.AUTH, kw["token"], max_age),
            self.cookies.header(cookies.DEVICE, kw["device_token"], cookies.DEVICE_MAX_AGE_SECONDS),
        ]

    def forget(self, request: Request, **kw: Any) -> list[tuple[str, str]]:
        current = request.login_session
        if current is not None:
            request.services.login_sessions.revoke(current)
        request.login_session = None
        return [self.cookies.deletion(cookies.AUTH)]


def includeme(config: Configurator) -> None:
    app_settings: AppSettings = config.registry["app_settings"]
    config.set_security_policy(
        SecurityPolicy(
            Cookies(app_settings.secure_cookies),
            max_age_seconds=app_settings.session_absolute_days * 86400,
            admins_need_second_factor=app_settings.require_two_factor_for_admins,
        )
    )
    # The signed-cookie session holds only the CSRF token, flash messages and a pending
    # reset code; who is signed in lives in the database (see login_session).
    config.set_session_factory(
        SignedCookieSessionFactory(
            app_settings.secret + ":session",
            cookie_name=Cookies(app_settings.secure_cookies).name(cookies.SESSION),
            secure=app_settings.secure_cookies,
            httponly=True,
            samesite="Lax",
            serializer=JSONSerializer(),
            # The cookie lapses after 20 minutes without use. Reading the session
            # re-signs the cookie at most every 2 minutes (Pyramid's default re-signs
            # it on every request that reads it, so whether an answer carried a new
            # cookie depended on whether a second had ticked since the form was shown).
            timeout=SESSION_TIMEOUT_SECONDS,
            reissue_time=SESSION_TIMEOUT_SECONDS // 10,
        )
    )
    config.set_csrf_storage_policy(SessionCSRFStoragePolicy())
    # On HTTPS, Pyramid also checks that a POST comes from a trusted origin: the request's
    # own Host, and the site's public address. Behind a proxy that does not pass the
    # public Host on, the public address is what the browser's Origin names.
    public = urlsplit(app_settings.base_url).netloc
    config.get_settings()["pyramid.csrf_trusted_origins"] = [public]
    config.set_default_csrf_options(require_csrf=True)
