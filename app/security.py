"""Who is signed in (a live row in login_sessions) and what they may do."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pyramid.config import Configurator
from pyramid.csrf import SessionCSRFStoragePolicy
from pyramid.request import Request
from pyramid.security import Allowed, Denied
from pyramid.session import JSONSerializer, SignedCookieSessionFactory

from . import cookies
from .cookies import Cookies
from .models import Account
from .settings import AppSettings

SESSION_TIMEOUT_SECONDS = 1200

PERMISSION_SIGNED_IN = "signed_in"
PERMISSION_ADMIN = "admin"


class SecurityPolicy:
    def __init__(self, cookies: Cookies, max_age_seconds: int) -> None:
        self.cookies = cookies
        self.max_age_seconds = max_age_seconds

    def identity(self, request: Request) -> Account | None:
        login_session = request.login_session
        return login_session.account if login_session is not None else None

    def authenticated_userid(self, request: Request) -> int | None:
        identity = request.identity
        return identity.id if identity is not None else None

    def permits(self, request: Request, context: Any, permission: str) -> Allowed | Denied:
        identity = request.identity
        if permission == PERMISSION_SIGNED_IN:
            if identity is not None:
                return Allowed("signed in")
            return Denied("not signed in")
        if permission == PERMISSION_ADMIN:
            if identity is not None and identity.is_admin:
                return Allowed("administrator")
            return Denied("administrators only")
        return Denied(f"unknown permission {permission!r}")

    def remember(self, request: Request, userid: Any, **kw: Any) -> list[tuple[str, str]]:
        """Start a new server-side session for the account and set its cookie, and mark
        this browser as known to the account (its long-lived device cookie).

        Always a new session token: a cookie planted before sign-in is never promoted."""
        account = kw["account"]
        services = request.services
        current = request.login_session
        if current is not None:
            services.login_sessions.revoke(current)
        token, login_session = services.login_sessions.start(
            account, ip=request.client_ip, user_agent=request.user_agent
        )
        request.login_session = login_session
        device = services.devices.remember(account, services.origin.device_token)
        return [
            self.cookies.header(cookies.AUTH, token, self.max_age_seconds),
            self.cookies.header(cookies.DEVICE, device, cookies.DEVICE_MAX_AGE_SECONDS),
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
