"""The identity provider's housekeeping: the signing keys rotated on schedule and deleted
once nothing they signed can be alive, and spent codes, ended refresh tokens and logout
deliveries kept to the second of their retention and no longer."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import (
    LoginSession,
    OidcClient,
    OidcCode,
    OidcKey,
    OidcLogoutDelivery,
    OidcRefreshToken,
)
from app.operations.oidc_housekeeping import DELIVERIES_KEPT, GRANTS_KEPT, OidcHousekeeping
from app.services.composition import ServiceFactory
from app.services.oidc.signing_keys import PUBLISH_AHEAD, RETIRED_KEPT
from tests.conftest import unit_settings
from tests.factories import make_account
from tests.support import FakeClock

SECOND = timedelta(seconds=1)
ROTATION = timedelta(days=90)
LATER = timedelta(days=30)


def _grants_and_deliveries(dbsession: Session, account_id: int, now: datetime) -> None:
    """Codes, refresh tokens and deliveries at the edge of their retention and a second
    past it, and ones still in use."""
    login = LoginSession(
        token_hash="session",
        account_id=account_id,
        created_at=now,
        last_seen_at=now,
        authenticated_at=now,
    )
    client = OidcClient(
        client_id="shop",
        name="The shop",
        redirect_uris=["https://shop.example.test/cb"],
        post_logout_redirect_uris=[],
        created_at=now,
    )
    dbsession.add_all([login, client])
    dbsession.flush()
    grants_edge = now - GRANTS_KEPT
    for name, expires in (
        ("code-edge", grants_edge),
        ("code-old", grants_edge - SECOND),
        ("code-live", now + LATER),
    ):
        dbsession.add(
            OidcCode(
                code_hash=name,
                client_pk=client.id,
                login_session_id=login.id,
                redirect_uri="https://shop.example.test/cb",
                scope="openid",
                code_challenge="challenge",
                created_at=now - LATER,
                expires_at=expires,
            )
        )
    for name, expires, revoked in (
        ("expired-edge", grants_edge, None),
        ("expired-old", grants_edge - SECOND, None),
        ("revoked-edge", now + LATER, grants_edge),
        ("revoked-old", now + LATER, grants_edge - SECOND),
        ("live", now + LATER, None),
    ):
        dbsession.add(
            OidcRefreshToken(
                token_hash=name,
                family=name,
                client_pk=client.id,
                login_session_id=login.id,
                scope="openid offline_access",
                created_at=now - LATER,
                expires_at=expires,
                revoked_at=revoked,
            )
        )
    deliveries_edge = now - DELIVERIES_KEPT
    # One a session: each client is told once of each session that ended.
    for session_id, (name, delivered, failed) in enumerate(
        (
            ("delivered-edge", deliveries_edge, None),
            ("delivered-old", deliveries_edge - SECOND, None),
            ("failed-edge", None, deliveries_edge),
            ("failed-old", None, deliveries_edge - SECOND),
            ("waiting", None, None),
        ),
        start=1,
    ):
        dbsession.add(
            OidcLogoutDelivery(
                client_pk=client.id,
                login_session_id=session_id,
                subject=name,
                sid=name,
                created_at=now - LATER,
                next_attempt_at=now,
                delivered_at=delivered,
                failed_at=failed,
            )
        )
    dbsession.commit()


def test_the_housekeeping_rotates_the_keys_and_deletes_each_kind_of_row_after_its_retention(
    dbsession: Session,
    session_factory: sessionmaker[Session],
    clock: FakeClock,
    hasher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    factory = ServiceFactory(
        unit_settings(oidc_key_rotation_days=ROTATION.days), clock=clock, hasher=hasher
    )
    housekeeping = OidcHousekeeping(factory, session_factory)
    services = factory.services(dbsession)
    account_id = make_account(services).id
    services.signing_keys.snapshot()
    dbsession.commit()
    first = set(dbsession.scalars(select(OidcKey.kid)))
    assert len(first) == 2
    log_name = "app.operations.oidc_housekeeping"

    # Nothing is due yet: nothing done, nothing logged.
    with caplog.at_level(logging.INFO, logger=log_name):
        assert housekeeping.run() == {
            "keys_made": 0,
            "keys_removed": 0,
            "grants": 0,
            "logout_deliveries": 0,
        }
    assert caplog.records == []

    # The keys' rotation is due: a new key of each algorithm is published.
    clock.advance(seconds=ROTATION.total_seconds())
    with caplog.at_level(logging.INFO, logger=log_name):
        assert housekeeping.run() == {
            "keys_made": 2,
            "keys_removed": 0,
            "grants": 0,
            "logout_deliveries": 0,
        }
    with session_factory() as session:
        kids = set(session.scalars(select(OidcKey.kid)))
    assert len(kids - first) == 2

    # The keys it replaced are deleted the very second nothing they signed can be alive,
    # along with the codes, refresh tokens and deliveries past their retention.
    clock.advance(seconds=(PUBLISH_AHEAD + RETIRED_KEPT).total_seconds())
    _grants_and_deliveries(dbsession, account_id, clock.now())
    with caplog.at_level(logging.INFO, logger=log_name):
        assert housekeeping.run() == {
            "keys_made": 0,
            "keys_removed": 2,
            "grants": 3,
            "logout_deliveries": 2,
        }

    with session_factory() as session:
        assert set(session.scalars(select(OidcKey.kid))) == kids - first
        assert sorted(session.scalars(select(OidcCode.code_hash))) == ["code-edge", "code-live"]
        assert sorted(session.scalars(select(OidcRefreshToken.token_hash))) == [
            "expired-edge",
            "live",
            "revoked-edge",
        ]
        assert sorted(session.scalars(select(OidcLogoutDelivery.subject))) == [
            "delivered-edge",
            "failed-edge",
            "waiting",
        ]
    assert [r.getMessage() for r in caplog.records] == [
        "Identity provider: 2 signing keys made, 0 removed, 0 codes and refresh tokens"
        " and 0 logout deliveries deleted",
        "Identity provider: 0 signing keys made, 2 removed, 3 codes and refresh tokens"
        " and 2 logout deliveries deleted",
    ]
