"""The WSGI application: main() reads as the table of contents of the app."""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.router import Router

from .settings import AppSettings, SettingsError, apply_environment


def main(global_config: dict[str, Any] | None = None, **settings: Any) -> Router:
    settings = apply_environment(settings)
    try:
        app_settings = AppSettings.from_settings(settings)
    except SettingsError as exc:
        # Start-up stops here with the reason, not with a traceback.
        raise SystemExit(f"Cannot start: {exc}") from None
    with Configurator(settings=settings) as config:
        config.registry["app_settings"] = app_settings
        config.include(".request")
        config.include(".templating")
        config.include(".models")
        config.include(".client_ip")
        config.include(".wiring")
        config.include(".security")
        config.include(".headers")
        config.include(".body_limit")
        config.include(".routes")
        config.scan(".controllers")
    return config.make_wsgi_app()
