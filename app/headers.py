"""Security headers on every response."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.events import NewResponse

CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'; form-action 'self'"


def includeme(config: Configurator) -> None:
    secure = config.registry["app_settings"].secure_cookies

    def add_security_headers(event: NewResponse) -> None:
        headers = event.response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers.setdefault("X-Frame-Options", "DENY")
        if not event.request.environ.get("PATH_INFO", "").startswith("/static/"):
            # Account pages show personal data and forms with one-time state.
            headers["Cache-Control"] = "no-store"
        if secure:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    config.add_subscriber(add_security_headers, NewResponse)
