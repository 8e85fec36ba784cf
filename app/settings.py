"""Typed view of the .ini settings, with the environment overrides production uses."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyramid.settings import asbool

# Environment variables that replace a setting when they are set. Production keeps its
# secrets and URLs out of the .ini file this way.
ENVIRONMENT_OVERRIDES = {
    "APP_SECRET": "app.secret",
    "APP_BASE_URL": "app.base_url",
    "DATABASE_URL": "sqlalchemy.url",
    "REDIS_URL": "ratelimit.storage_uri",
    "SMTP_HOST": "mail.host",
    "SMTP_PORT": "mail.port",
    "SMTP_USERNAME": "mail.username",
    "SMTP_PASSWORD": "mail.password",
}


class SettingsError(Exception):
    """A setting is missing or unusable; start-up stops with this message."""


def apply_environment(settings: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(settings)
    for variable, key in ENVIRONMENT_OVERRIDES.items():
        value = os.environ.get(variable)
        if value:
            merged[key] = value
    url = merged.get("sqlalchemy.url", "")
    # Hosting providers hand out postgres:// URLs; SQLAlchemy wants a driver name.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            merged["sqlalchemy.url"] = "postgresql+psycopg://" + url[len(prefix) :]
    return merged


def _int(settings: Mapping[str, Any], key: str, default: int) -> int:
    raw = settings.get(key)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        return int(str(raw).strip())
    except ValueError as exc:
        raise SettingsError(f"Setting {key} must be a whole number, not {raw!r}.") from exc


def _float(settings: Mapping[str, Any], key: str, default: float) -> float:
    raw = settings.get(key)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        return float(str(raw).strip())
    except ValueError as exc:
        raise SettingsError(f"Setting {key} must be a number, not {raw!r}.") from exc


@dataclass(frozen=True)
class AppSettings:
    secret: str
    base_url: str
    secure_cookies: bool
    log_reset_links: bool
    allow_registration: bool
    reset_code_minutes: int
    invite_code_days: int
    password_min_length: int
    password_min_strength: int
    session_idle_minutes: int
    session_absolute_days: int
    mail_delivery: str
    mail_transport: str
    mail_sender: str
    mail_max_attempts: int
    mail_retry_seconds: float
    mail_poll_seconds: float

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> AppSettings:
        secret = str(settings.get("app.secret") or "").strip()
        if not secret:
            raise SettingsError(
                "No secret configured: set the APP_SECRET environment variable "
                "(or app.secret in the .ini file) to a long random string."
            )
        if len(secret) < 16:
            raise SettingsError("The secret (APP_SECRET) must be at least 16 characters long.")
        base_url = str(settings.get("app.base_url") or "").strip().rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise SettingsError(
                "Set app.base_url (or APP_BASE_URL) to the site's public address, "
                "such as https://accounts.example.com; email links are built from it."
            )
        delivery = str(settings.get("mail.delivery", "thread")).strip()
        if delivery not in ("thread", "worker", "manual"):
            raise SettingsError("mail.delivery must be thread, worker or manual.")
        transport = str(settings.get("mail.transport", "smtp")).strip()
        if transport not in ("smtp", "file"):
            raise SettingsError("mail.transport must be smtp or file.")
        return cls(
            secret=secret,
            base_url=base_url,
            secure_cookies=asbool(settings.get("app.secure_cookies", False)),
            log_reset_links=asbool(settings.get("app.log_reset_links", False)),
            allow_registration=asbool(settings.get("accounts.allow_registration", True)),
            reset_code_minutes=_int(settings, "accounts.reset_code_minutes", 60),
            invite_code_days=_int(settings, "accounts.invite_code_days", 7),
            password_min_length=_int(settings, "accounts.password_min_length", 12),
            password_min_strength=_int(settings, "accounts.password_min_strength", 3),
            session_idle_minutes=_int(settings, "sessions.idle_minutes", 1440),
            session_absolute_days=_int(settings, "sessions.absolute_days", 30),
            mail_delivery=delivery,
            mail_transport=transport,
            mail_sender=str(settings.get("mail.default_sender") or "no-reply@localhost"),
            mail_max_attempts=_int(settings, "mail.max_attempts", 10),
            mail_retry_seconds=_float(settings, "mail.retry_seconds", 30.0),
            mail_poll_seconds=_float(settings, "mail.poll_seconds", 5.0),
        )
