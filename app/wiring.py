"""Starts what works beside the requests: the outbox's sender and the housekeeping; and
builds what the operator's endpoints read (readiness checks, metrics)."""

from __future__ import annotations

import atexit
from datetime import timedelta

from pyramid.config import Configurator

from app.mail.file_transport import FileTransport
from app.mail.sender import Transport, make_outbox_sender
from app.mail.smtp_transport import SMTPTransport
from app.mail.thread import OutboxThread
from app.operations.account_erasure import AccountErasure
from app.operations.backchannel_logouts import DueWork, LogoutSender
from app.operations.metrics_endpoint import MetricsEndpoint
from app.operations.oidc_housekeeping import OidcHousekeeping
from app.operations.pruning import make_pruner
from app.operations.readiness import ReadinessProbe
from app.services.composition import ServiceFactory
from app.services.sessions import user_agents
from app.settings import AppSettings


def make_transport(app_settings: AppSettings) -> Transport:
    if app_settings.mail_transport == "file":
        return FileTransport(app_settings.mail_file_directory)
    return SMTPTransport(app_settings.smtp)


def includeme(config: Configurator) -> None:
    registry = config.registry
    app_settings: AppSettings = registry["app_settings"]
    services: ServiceFactory = registry["services"]
    session_factory = registry["dbsession_factory"]

    sender = make_outbox_sender(services, session_factory, make_transport(app_settings))
    pruner = make_pruner(services, session_factory)
    oidc_housekeeping = OidcHousekeeping(services, session_factory)
    erasure = AccountErasure(services, session_factory)
    registry["outbox_sender"] = sender
    registry["logout_sender"] = logout_sender = LogoutSender(services, session_factory)
    registry["pruner"] = pruner
    registry["oidc_housekeeping"] = oidc_housekeeping
    registry["account_erasure"] = erasure

    def housekeeping() -> None:
        erasure.run()
        pruner.prune()
        oidc_housekeeping.run()

    registry["housekeeping"] = housekeeping
    thread = None
    if app_settings.mail_delivery == "thread":
        thread = OutboxThread(
            DueWork(sender, logout_sender),
            poll_seconds=app_settings.mail_poll_seconds,
            housekeeping=housekeeping,
        )
        thread.start()
        atexit.register(thread.stop)
    registry["outbox_thread"] = thread
    engine = registry["db_engine"]
    max_age = app_settings.operations.outbox_max_age_minutes
    registry["readiness"] = ReadinessProbe(
        engine,
        services.clock,
        services.rate_limiter,
        outbox_max_age=timedelta(minutes=max_age) if max_age else None,
    )
    registry["metrics_endpoint"] = MetricsEndpoint(engine, services.clock)
    # The device names' regexes compile now, not in the first request that shows one.
    user_agents.warm_up()
