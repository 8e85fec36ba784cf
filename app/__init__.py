"""The WSGI application: make_app() reads as the table of contents of the app.

The services and settings are imported inside make_app(): the .ini files' logging
configuration imports app.logs, and so this package, before the app is built (see
app/logs.py for why that import must stay light)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyramid.config import Configurator
from pyramid.router import Router

if TYPE_CHECKING:
    from app.services.kernel.clock import Clock
    from app.services.passwords.hashing import PasswordHasher


def main(global_config: dict[str, Any] | None = None, **settings: Any) -> Router:
    """The entry point of the .ini files (`use = call:app:main`)."""
    return make_app(settings)


def make_app(
    settings: dict[str, Any], clock: Clock | None = None, hasher: PasswordHasher | None = None
) -> Router:
    """The app for these settings. Tests pass their own clock and a cheaper hasher."""
    from app.services.composition import ServiceFactory
    from app.settings import AppSettings, SettingsError, apply_environment

    settings = apply_environment(settings)
    try:
        app_settings = AppSettings.from_settings(settings)
    except SettingsError as exc:
        # Start-up stops here with the reason, not with a traceback.
        raise SystemExit(f"Cannot start: {exc}") from None
    with Configurator(settings=settings) as config:
        config.registry["app_settings"] = app_settings
        config.registry["services"] = ServiceFactory(app_settings, clock=clock, hasher=hasher)
        config.include(".web.request")
        config.include(".i18n")
        config.include(".templating")
        config.include(".models")
        config.include(".wiring")
        config.include(".web.request_ids")
        config.include(".web.access_log")
        config.include(".security")
        config.include(".web.headers")
        config.include(".web.body_limit")
        config.include(".api")
        config.include(".web.branding")
        config.include(".routes")
        config.scan(".controllers")
    return config.make_wsgi_app()
