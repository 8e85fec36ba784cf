"""Builds the services once per process and hands them to each request."""

from __future__ import annotations

import atexit
import logging
from datetime import timedelta
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid_mailer import mailer_factory_from_settings
from pyramid_mailer.mailer import DebugMailer

from .services.accounts import AccountPolicy, AccountService
from .services.admin import AccountAdminService
from .services.audit import AuditLog, RequestOrigin
from .services.clock import SystemClock
from .services.login_sessions import LoginSessionService, SessionLifetimes
from .services.mail_templates import MailTemplates
from .services.outbox import Outbox, OutboxSender, OutboxThread, outbox_cipher
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

    config.add_request_method(clock, reify=True)
    config.add_request_method(outbox, reify=True)
    config.add_request_method(login_sessions, reify=True)
    config.add_request_method(accounts, reify=True)
    config.add_request_method(audit, reify=True)
    config.add_request_method(account_admin, reify=True)
    config.add_request_method(rate_limiter, reify=True)
    config.add_request_method(password_policy, reify=True)


class _RegistryClock:
    """Reads the clock from the registry each time, so tests can swap it."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def now(self) -> Any:
        return self.registry["clock"].now()


def clock(request: Request) -> Any:
    return request.registry["clock"]


def password_policy(request: Request) -> PasswordPolicy:
    return request.registry["password_policy"]


def outbox(request: Request) -> Outbox:
    thread = request.registry["outbox_thread"]

    def wake_sender_after_commit() -> None:
        if thread is not None:
            request.tm.get().addAfterCommitHook(lambda ok: ok and thread.wake())

    return Outbox(
        request.dbsession,
        request.registry["outbox_cipher"],
        request.clock,
        on_queued=wake_sender_after_commit,
    )


def audit(request: Request) -> AuditLog:
    origin = RequestOrigin(ip=request.client_ip, user_agent=request.user_agent)
    return AuditLog(request.dbsession, request.clock, origin)


def rate_limiter(request: Request) -> RateLimiter:
    return request.registry["rate_limiter"]


def login_sessions(request: Request) -> LoginSessionService:
    return LoginSessionService(
        request.dbsession, request.clock, request.registry["session_lifetimes"]
    )


def accounts(request: Request) -> AccountService:
    registry = request.registry
    return AccountService(
        dbsession=request.dbsession,
        clock=request.clock,
        hasher=registry["password_hasher"],
        password_policy=registry["password_policy"],
        outbox=request.outbox,
        mail_templates=registry["mail_templates"],
        login_sessions=request.login_sessions,
        audit=request.audit,
        policy=registry["account_policy"],
    )


def account_admin(request: Request) -> AccountAdminService:
    return AccountAdminService(request.dbsession, request.accounts, request.audit)
