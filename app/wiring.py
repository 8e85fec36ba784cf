"""Builds the services once per process and hands them to each request."""

from __future__ import annotations

import atexit
import logging
from datetime import timedelta
from typing import Any

from pyramid.config import Configurator
from pyramid_mailer import mailer_factory_from_settings
from pyramid_mailer.mailer import DebugMailer

from .services.accounts import AccountPolicy
from .services.clock import SystemClock
from .services.login_sessions import SessionLifetimes
from .services.mail_templates import MailTemplates
from .services.outbox import OutboxSender, OutboxThread, outbox_cipher
from .services.passwords import PasswordHasher, PasswordPolicy
from .services.pruning import Pruner
from .services.rate_limits import DEFAULT_LIMITS, RateLimiter
from .settings import AppSettings

log = logging.getLogger(__name__)


def make_transport(settings: dict[str, Any], app_settings: AppSettings) -> Any:
    if app_settings.mail_transport == "file":
        directory = settings.get("mail.file_directory") or "var/mail"
        return DebugMailer(directory)
    return mailer_factory_from_settings(settings, prefix="mail.")


def includeme(config: Configurator) -> None:
    settings = config.get_settings()
    app_settings: AppSettings = config.registry["app_settings"]
    registry = config.registry

    registry["clock"] = SystemClock()
    registry["password_hasher"] = PasswordHasher()
    registry["password_policy"] = PasswordPolicy(
        min_length=app_settings.password_min_length,
        min_strength=app_settings.password_min_strength,
    )
    registry["mail_templates"] = MailTemplates(
        auto_reload=bool(settings.get("pyramid.reload_templates"))
    )
    registry["outbox_cipher"] = outbox_cipher(app_settings.secret)
    registry["mail_transport"] = make_transport(settings, app_settings)
    registry["session_lifetimes"] = SessionLifetimes(
        idle=timedelta(minutes=app_settings.session_idle_minutes),
        absolute=timedelta(days=app_settings.session_absolute_days),
    )
    registry["account_policy"] = AccountPolicy(
        reset_code_lifetime=timedelta(minutes=app_settings.reset_code_minutes),
        invite_code_lifetime=timedelta(days=app_settings.invite_code_days),
        base_url=app_settings.base_url,
        log_reset_links=app_settings.log_reset_links,
    )

    registry["rate_limiter"] = RateLimiter(
        storage_uri=settings.get("ratelimit.storage_uri") or "memory://",
        limits={
            name: settings[f"ratelimit.{name}"]
            for name in DEFAULT_LIMITS
            if settings.get(f"ratelimit.{name}")
        },
    )

    sender = OutboxSender(
        session_factory=registry["dbsession_factory"],
        cipher=registry["outbox_cipher"],
        transport=registry["mail_transport"],
        clock=_RegistryClock(registry),
        sender_address=app_settings.mail_sender,
        max_attempts=app_settings.mail_max_attempts,
        retry_seconds=app_settings.mail_retry_seconds,
    )
    registry["outbox_sender"] = sender
    registry["pruner"] = Pruner(
        registry["dbsession_factory"],
        _RegistryClock(registry),
        session_absolute=registry["session_lifetimes"].absolute,
    )
    thread = None
    if app_settings.mail_delivery == "thread":
        thread = OutboxThread(
            sender,
            poll_seconds=app_settings.mail_poll_seconds,
            housekeeping=registry["pruner"].prune,
        )
        thread.start()
        atexit.register(thread.stop)
    registry["outbox_thread"] = thread


class _RegistryClock:
    """Reads the clock from the registry each time, so tests can swap it."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def now(self) -> Any:
        return self.registry["clock"].now()
