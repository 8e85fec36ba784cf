"""Starts what works beside the requests: the outbox's sender and the housekeeping."""

from __future__ import annotations

import atexit

from pyramid.config import Configurator

from .services import user_agents
from .services.composition import ServiceFactory
from .services.file_transport import FileTransport
from .services.outbox_sender import OutboxThread, Transport
from .services.smtp_transport import SMTPTransport
from .settings import AppSettings


def make_transport(app_settings: AppSettings) -> Transport:
    if app_settings.mail_transport == "file":
        return FileTransport(app_settings.mail_file_directory)
    return SMTPTransport(app_settings.smtp)


def includeme(config: Configurator) -> None:
    registry = config.registry
    app_settings: AppSettings = registry["app_settings"]
    services: ServiceFactory = registry["services"]
    session_factory = registry["dbsession_factory"]

    sender = services.outbox_sender(session_factory, make_transport(app_settings))
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
    # The device names' regexes compile now, not in the first request that shows one.
    user_agents.warm_up()
