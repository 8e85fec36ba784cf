"""Starts what works beside the requests: the outbox's sender and the housekeeping."""

from __future__ import annotations

import atexit
from typing import Any

from pyramid.config import Configurator
from pyramid_mailer import mailer_factory_from_settings
from pyramid_mailer.mailer import DebugMailer

from .services.composition import ServiceFactory
from .services.outbox_sender import OutboxThread
from .settings import AppSettings


def make_transport(settings: dict[str, Any], app_settings: AppSettings) -> Any:
    if app_settings.mail_transport == "file":
        return DebugMailer(app_settings.mail_file_directory)
    return mailer_factory_from_settings(settings, prefix="mail.")


def includeme(config: Configurator) -> None:
    registry = config.registry
    app_settings: AppSettings = registry["app_settings"]
    services: ServiceFactory = registry["services"]
    session_factory = registry["dbsession_factory"]

    sender = services.outbox_sender(
        session_factory, make_transport(config.get_settings(), app_settings)
    )
    pruner = services.pruner(session_factory)
    registry["outbox_sender"] = sender
    registry["pruner"] = pruner
    thread = None
    if app_settings.mail_delivery == "thread":
        thread = OutboxThread(
            sender, poll_seconds=app_settings.mail_poll_seconds, housekeeping=pruner.prune
        )
        thread.start()
        atexit.register(thread.stop)
    registry["outbox_thread"] = thread
