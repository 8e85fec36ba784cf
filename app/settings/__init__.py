"""Typed view of the .ini settings, with the environment overrides production uses.

Every setting the app reads is here, read once at start-up; a missing or unusable value
stops start-up with a sentence that names the setting."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from app.settings.branding import BrandSettings, read_brand
from app.settings.limits import DEFAULT_LIMITS
from app.settings.operations import OperationsSettings
from app.settings.providers import UpstreamProviderSettings, read_upstream_providers
from app.settings.reader import Network, SettingsError, SettingsReader

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
    "SMTP_TLS": "mail.tls",
    "BREACH_CHECK_URL": "passwords.breach_check_url",
}

# Variables the .ini files may use, for readers that are not given them: development.ini
# serves on %(http_port)s, which `make run` passes to pserve (PORT).
INI_VARIABLES = {"http_port": os.environ.get("PORT", "6543")}


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


def read_breach_check_url(read: SettingsReader) -> str:
    url = read.text("passwords.breach_check_url", "")
    if url and not url.startswith(("https://", "http://")):
        raise SettingsError(
            "Setting passwords.breach_check_url must be an http(s) address such as"
            f" https://api.pwnedpasswords.com/range/, not {url!r}."
        )
    return url


def read_allowed_origins(read: SettingsReader) -> tuple[str, ...]:
    """api.allowed_origins: origins, never "*": answering every origin with credentials
    would let any site act for a signed-in visitor."""
    origins = []
    for item in (read.raw("api.allowed_origins") or "").replace(",", " ").split():
        parts = urlsplit(item)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise SettingsError(
                "Setting api.allowed_origins lists origins such as https://shop.example.com"
                f" (a scheme, a host and perhaps a port, nothing else), not {item!r}."
            )
        origins.append(f"{parts.scheme}://{parts.netloc}".lower())
    return tuple(origins)


def read_frontend_url(read: SettingsReader) -> str:
    url = (read.raw("api.frontend_url") or "").rstrip("/")
    if url and (not url.startswith(("https://", "http://")) or not urlsplit(url).hostname):
        raise SettingsError(
            "Setting api.frontend_url must be the address of the shop's pages, such as"
            f" https://shop.example.com/account, not {url!r}."
        )
    return url


# mail.tls: how the connection to the SMTP server is encrypted. "true" and "false" are
# the older spellings of starttls and none.
TLS_MODES = {
    "starttls": "starttls",
    "true": "starttls",
    "ssl": "ssl",
    "none": "none",
    "false": "none",
}


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 587
    username: str = ""
    password: str = field(default="", repr=False)
    # starttls (upgrade a plain connection, the default), ssl (TLS from the first byte,
    # usually port 465) or none (a relay on this host, without credentials).
    tls: str = "starttls"
    # A CA bundle to verify the server's certificate with, instead of the system's.
    ca_file: str = ""
    timeout_seconds: float = 10.0

    @classmethod
    def read(cls, read: SettingsReader) -> SmtpSettings:
        raw_tls = (read.raw("mail.tls") or "starttls").lower()
        if raw_tls not in TLS_MODES:
            raise SettingsError(
                f"Setting mail.tls (SMTP_TLS) must be starttls, ssl or none, not {raw_tls!r}."
            )
        smtp = cls(
            host=read.text("mail.host", "localhost"),
            port=read.number("mail.port", 465 if TLS_MODES[raw_tls] == "ssl" else 587, minimum=1),
            username=read.text("mail.username", ""),
            password=read.text("mail.password", ""),
            tls=TLS_MODES[raw_tls],
            ca_file=read.text("mail.tls_ca_file", ""),
            timeout_seconds=read.decimal("mail.timeout_seconds", 10.0, minimum=0.1),
        )
        if smtp.username and smtp.tls == "none":
            raise SettingsError(
                "mail.username (SMTP_USERNAME) is set but mail.tls is none: credentials are"
                " never sent without TLS. Set mail.tls to starttls or ssl."
            )
        return smtp


@dataclass(frozen=True)
class AppSettings:
    secret: str
    base_url: str
    secure_cookies: bool = False
    log_reset_links: bool = False
    max_body_bytes: int = 64 * 1024
    trusted_proxies: tuple[Network, ...] = ()
    reload_templates: bool = False
    allow_registration: bool = True
    # Whom the owner of a disabled account is told to contact.
    support_contact: str = "the site's administrator"
    reset_code_minutes: int = 60
    invite_code_days: int = 7
    require_verified_email: bool = True
    verify_email_days: int = 2
    unverified_days: int = 7
    # How long an account its owner deleted waits to be erased, while the emailed
    # restore link can bring it back (0: erased at once).
    deletion_grace_days: int = 7
    # Signing in with a code emailed to the address (/account/signin/email_code).
    allow_email_codes: bool = True
    password_min_length: int = 12
    password_min_strength: int = 3
    # The Pwned Passwords range API ("" turns the check off), and how long a password
    # waits for its answer before the check is skipped.
    breach_check_url: str = ""
    breach_check_timeout_seconds: float = 2.0
    session_idle_minutes: int = 1440
    session_absolute_days: int = 30
    session_max_per_account: int = 20
    session_reauth_minutes: int = 15
    require_two_factor_for_admins: bool = False
    audit_retention_days: int = 365
    ratelimit_storage_uri: str = "memory://"
    rate_limits: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    # How many processes share the limits in Redis: while Redis is away, each grants
    # only its share.
    ratelimit_processes: int = 1
    mail_delivery: str = "thread"
    mail_transport: str = "smtp"
    mail_file_directory: str = "var/mail"
    mail_sender: str = "no-reply@localhost"
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    mail_retry_hours: float = 48.0
    mail_retry_seconds: float = 30.0
    mail_poll_seconds: float = 5.0
    operations: OperationsSettings = field(default_factory=OperationsSettings)
    # The identity provider's signing keys are replaced after this many days.
    oidc_key_rotation_days: int = 90
    # The JSON API: the origins (scheme://host[:port]) whose pages may call it from a
    # browser (CORS, with credentials), and the shop's own pages that emailed links of
    # API-started flows open instead of this site's ("" keeps this site's pages).
    api_allowed_origins: tuple[str, ...] = ()
    api_frontend_url: str = ""
    # The other providers people may sign in with (app/settings/providers.py).
    upstream_providers: tuple[UpstreamProviderSettings, ...] = ()
    # The shop's name, logo and colour (app/settings/branding.py).
    brand: BrandSettings = field(default_factory=BrandSettings)

    @property
    def host(self) -> str:
        """The host name of app.base_url: the name authenticator apps and passkeys show."""
        return urlsplit(self.base_url).hostname or ""

    @property
    def origin(self) -> str:
        """The scheme, host and port of app.base_url, which paths are joined to."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> AppSettings:
        read = SettingsReader(settings)
        secret = read.raw("app.secret") or ""
        if not secret:
            raise SettingsError(
                "No secret configured: set the APP_SECRET environment variable "
                "(or app.secret in the .ini file) to a long random string."
            )
        if len(secret) < 16:
            raise SettingsError("The secret (APP_SECRET) must be at least 16 characters long.")
        base_url = (read.raw("app.base_url") or "").rstrip("/")
        if not base_url.startswith(("http://", "https://")) or not urlsplit(base_url).hostname:
            raise SettingsError(
                "Set app.base_url (or APP_BASE_URL) to the site's public address, "
                "such as https://accounts.example.com; email links are built from it."
            )
        return cls(
            secret=secret,
            base_url=base_url,
            secure_cookies=read.flag("app.secure_cookies", False),
            log_reset_links=read.flag("app.log_reset_links", False),
            max_body_bytes=read.number("app.max_body_bytes", 64 * 1024, minimum=1024),
            trusted_proxies=read.networks("app.trusted_proxies"),
            reload_templates=read.flag("pyramid.reload_templates", False),
            allow_registration=read.flag("accounts.allow_registration", True),
            support_contact=read.text("accounts.support_contact", "the site's administrator"),
            reset_code_minutes=read.number("accounts.reset_code_minutes", 60, minimum=1),
            invite_code_days=read.number("accounts.invite_code_days", 7, minimum=1),
            require_verified_email=read.flag("accounts.require_verified_email", True),
            verify_email_days=read.number("accounts.verify_email_days", 2, minimum=1),
            unverified_days=read.number("accounts.unverified_days", 7, minimum=1),
            deletion_grace_days=read.number("accounts.deletion_grace_days", 7, minimum=0),
            allow_email_codes=read.flag("signin.email_codes", True),
            password_min_length=read.number("accounts.password_min_length", 12, minimum=1),
            password_min_strength=read.number("accounts.password_min_strength", 3),
            breach_check_url=read_breach_check_url(read),
            breach_check_timeout_seconds=read.decimal(
                "passwords.breach_check_timeout_seconds", 2.0, minimum=0.1
            ),
            session_idle_minutes=read.number("sessions.idle_minutes", 1440, minimum=1),
            session_absolute_days=read.number("sessions.absolute_days", 30, minimum=1),
            session_max_per_account=read.number("sessions.max_per_account", 20, minimum=1),
            session_reauth_minutes=read.number("sessions.reauth_minutes", 15, minimum=1),
            require_two_factor_for_admins=read.flag(
                "accounts.require_two_factor_for_admins", False
            ),
            audit_retention_days=read.number("audit.retention_days", 365, minimum=1),
            ratelimit_storage_uri=read.text("ratelimit.storage_uri", "memory://"),
            rate_limits=read.rate_limits(),
            ratelimit_processes=read.number("ratelimit.processes", 1, minimum=1),
            mail_delivery=read.choice("mail.delivery", "thread", ("thread", "worker", "manual")),
            mail_transport=read.choice("mail.transport", "smtp", ("smtp", "file")),
            mail_file_directory=read.text("mail.file_directory", "var/mail"),
            mail_sender=read.text("mail.default_sender", "no-reply@localhost"),
            smtp=SmtpSettings.read(read),
            mail_retry_hours=read.decimal("mail.retry_hours", 48.0, minimum=0.01),
            mail_retry_seconds=read.decimal("mail.retry_seconds", 30.0),
            mail_poll_seconds=read.decimal("mail.poll_seconds", 5.0),
            operations=OperationsSettings.read(read),
            oidc_key_rotation_days=read.number("oidc.key_rotation_days", 90, minimum=1),
            api_allowed_origins=read_allowed_origins(read),
            api_frontend_url=read_frontend_url(read),
            upstream_providers=read_upstream_providers(read),
            brand=read_brand(read),
        )
