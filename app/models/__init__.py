"""Database wiring: engine, session factory, and one transaction per request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyramid_tm
from pyramid.settings import asbool
from pyramid.tweens import EXCVIEW
from sqlalchemy import engine_from_config, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from app.models.account_events import AccountEvent
from app.models.accounts import Account
from app.models.known_devices import KnownDevice
from app.models.login_sessions import LoginSession
from app.models.meta import Base
from app.models.oidc_clients import OidcClient
from app.models.oidc_grants import OidcCode, OidcConsent, OidcRefreshToken
from app.models.oidc_keys import OidcKey
from app.models.oidc_logouts import OidcLogoutDelivery
from app.models.one_time_codes import (
    PURPOSE_CHANGE_EMAIL,
    PURPOSE_INVITE,
    PURPOSE_NOT_ME,
    PURPOSE_RESET,
    PURPOSE_RESTORE,
    PURPOSE_SIGN_IN,
    PURPOSE_UNDO_EMAIL_CHANGE,
    PURPOSE_VERIFY_EMAIL,
    OneTimeCode,
)
from app.models.outgoing_emails import OutgoingEmail
from app.models.recovery_codes import RecoveryCode
from app.models.transactions import join_managed_transactions, managed_session
from app.models.upstream_identities import UpstreamIdentity
from app.models.webauthn_credentials import SpentChallenge, WebAuthnCredential

__all__ = [
    "Account",
    "AccountEvent",
    "Base",
    "KnownDevice",
    "LoginSession",
    "OidcClient",
    "OidcCode",
    "OidcConsent",
    "OidcKey",
    "OidcLogoutDelivery",
    "OidcRefreshToken",
    "OneTimeCode",
    "OutgoingEmail",
    "PURPOSE_CHANGE_EMAIL",
    "PURPOSE_INVITE",
    "PURPOSE_NOT_ME",
    "PURPOSE_RESET",
    "PURPOSE_RESTORE",
    "PURPOSE_SIGN_IN",
    "PURPOSE_UNDO_EMAIL_CHANGE",
    "PURPOSE_VERIFY_EMAIL",
    "RecoveryCode",
    "SpentChallenge",
    "UpstreamIdentity",
    "WebAuthnCredential",
    "get_engine",
    "get_session_factory",
    "get_tm_session",
]

configure_mappers()


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one request writes; the busy timeout makes concurrent
    # writers wait their turn instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def get_engine(settings: Mapping[str, Any], prefix: str = "sqlalchemy.") -> Engine:
    config = dict(settings)
    # A server that restarts can break pooled connections; a SQLite file cannot. The
    # ping is one extra round trip per request, so it is on only where it helps.
    # (engine_from_config would pass the text "false" through as a true value.)
    is_sqlite = str(config.get(prefix + "url", "")).startswith("sqlite")
    pre_ping = asbool(config.pop(prefix + "pool_pre_ping", not is_sqlite))
    engine = engine_from_config(
        config,
        prefix,
        # Parameters stay out of error messages and logs: they can hold emails and hashes.
        hide_parameters=True,
        # A connection broken by a database restart is noticed and replaced before use.
        pool_pre_ping=pre_ping,
    )
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
    return engine


def get_session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    join_managed_transactions(factory)
    return factory


def get_tm_session(session_factory: sessionmaker[Session], transaction_manager: Any) -> Session:
    """A session joined to a transaction manager: committed or aborted with it."""
    return managed_session(session_factory, transaction_manager)


def includeme(config: Any) -> None:
    settings = config.get_settings()
    # One transaction manager per request (AppRequest.tm), made by pyramid_tm's hook.
    settings["tm.manager_hook"] = pyramid_tm.explicit_manager
    # pyramid_tm would look up the signed-in user before the exception views are in
    # place, so a database outage there would escape as a bare 500 instead of our 503.
    settings["tm.annotate_user"] = False
    # pyramid_tm's tween, without its includeme: that would add request.tm through
    # add_request_method, which AppRequest already provides for less.
    config.add_tween("pyramid_tm.tm_tween_factory", over=EXCVIEW)
    config.include("pyramid_retry")

    engine = get_engine(settings)
    session_factory = get_session_factory(engine)
    config.registry["dbsession_factory"] = session_factory
    config.registry["db_engine"] = engine
