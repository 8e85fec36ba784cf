"""The app's request: what views, services and templates reach through `request.`.

One Request subclass, set as the request factory, holds these as reified properties.
Pyramid's add_request_method would attach them by building a new class for every
request, which costs more than the whole of a simple page's own work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyramid_tm
from pyramid.decorator import reify
from pyramid.request import Request
from sqlalchemy.orm import Session
from transaction import TransactionManager

from app.i18n import Formats, page_translator
from app.models import LoginSession, get_tm_session
from app.models.login_sessions import APP_SESSION
from app.services.composition import Services
from app.services.kernel.audit import RequestOrigin
from app.settings import AppSettings
from app.web import cookies
from app.web.authorization import bearer_token
from app.web.client_ip import resolve_client_ip
from app.web.cookies import Cookies
from app.web.pending_codes import PendingCodes

# Requests under this path are the JSON API's.
API_PATH = "/api/"


def is_api_request(request: Request) -> bool:
    """Whether the request is the JSON API's, read from the raw WSGI path: a path that is
    not valid UTF-8 (which request.path_info would fail to decode) is never the API's."""
    path: str = request.environ.get("PATH_INFO", "")
    return path.startswith(API_PATH)


# In the registry: the paths of routes and assets that do not vary from one request to
# the next (apart from the SCRIPT_NAME prefix), by route name or asset spec.
FIXED_PATHS = "fixed_paths"


class AppRequest(Request):
    @reify
    def app_settings(self) -> AppSettings:
        return self.registry["app_settings"]

    @reify
    def app_cookies(self) -> Cookies:
        return self.registry["app_cookies"]

    @reify
    def pending_codes(self) -> PendingCodes:
        return self.registry["pending_codes"]

    @reify
    def tm(self) -> TransactionManager:
        """The request's own transaction manager, committed or aborted by pyramid_tm."""
        return pyramid_tm.create_tm(self)

    @reify
    def dbsession(self) -> Session:
        return get_tm_session(self.registry["dbsession_factory"], self.tm)

    @reify
    def client_ip(self) -> str | None:
        environ = self.environ
        return resolve_client_ip(
            environ.get("REMOTE_ADDR"),
            environ.get("HTTP_X_FORWARDED_FOR"),
            self.app_settings.trusted_proxies,
        )

    @reify
    def services(self) -> Services:
        """The services of this request, on its database session."""
        thread = self.registry["outbox_thread"]

        def wake_sender_after_commit() -> None:
            if thread is not None:
                self.tm.get().addAfterCommitHook(lambda ok: ok and thread.wake())

        return self.registry["services"].services(
            self.dbsession,
            RequestOrigin(
                ip=self.client_ip,
                user_agent=self.user_agent,
                device_token=self.cookies.get(self.app_cookies.name(cookies.DEVICE)),
                through_api=is_api_request(self),
            ),
            on_mail_queued=wake_sender_after_commit,
            locale=lambda: self.locale_name,
        )

    @reify
    def formats(self) -> Formats:
        """Dates, times and plurals in the request's language."""
        return Formats(self.locale_name, self.localizer, page_translator(self))

    def flashes(self, queue: str) -> list[Any]:
        """The flash messages of a queue, taken out of the session. An empty queue leaves
        the session untouched: popping it would mark the session changed, and every page
        would send its cookie again."""
        session = self.session
        return session.pop_flash(queue) if session.peek_flash(queue) else []

    @reify
    def login_session(self) -> LoginSession | None:
        """The live server-side session of the `auth` cookie, if any (see security.py);
        on the JSON API, an application's session from its bearer token instead
        (app/api/modes.py)."""
        if is_api_request(self):
            bearer = bearer_token(self)
            if bearer is not None:
                return self.services.login_sessions.find_active(bearer, APP_SESSION)
        token = self.cookies.get(self.app_cookies.name(cookies.AUTH))
        if not token:
            return None
        return self.services.login_sessions.find_active(token)

    @reify
    def here(self) -> str:
        """This page's path and query, to come back to (/ if it cannot be read)."""
        try:
            return str(self.path_qs)
        except UnicodeDecodeError:
            return "/"

    def page_path(self, route_name: str) -> str:
        """route_path() of a route without placeholders, kept once computed: the layout
        of every page asks for six of these."""
        return self._fixed_path(self.route_url, route_name)

    def asset_path(self, spec: str) -> str:
        """static_path() of an asset, kept once computed like page_path()."""
        return self._fixed_path(self.static_url, spec)

    def _fixed_path(self, make_url: Callable[..., str], name: str) -> str:
        path = self._fixed_paths.get(name)
        if path is None:
            path = self._fixed_paths[name] = make_url(name, _app_url="")
        return self._script_name + path

    @reify
    def _fixed_paths(self) -> dict[str, str]:
        paths: dict[str, str] = self.registry[FIXED_PATHS]
        return paths

    @reify
    def _script_name(self) -> str:
        return str(self.script_name)


def includeme(config: Any) -> None:
    config.set_request_factory(AppRequest)
    config.registry[FIXED_PATHS] = {}
    app_settings = config.registry["app_settings"]
    config.registry["app_cookies"] = Cookies(app_settings.secure_cookies)
    config.registry["pending_codes"] = PendingCodes(app_settings.secret)
