"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0): each application that
holds tokens of a login session that ended is sent a signed logout token, from a
durable queue (oidc_logout_deliveries) with retries, like the outbox: nothing is lost
when an application is down, and each is told once per session (docs/security.md 63).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from joserfc import jwt
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.models import OidcLogoutDelivery
from app.services.composition import ServiceFactory
from app.services.kernel.statements import rows_changed
from app.services.oidc.records import SIGNING_ALGORITHM

log = logging.getLogger(__name__)

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPE = "logout+jwt"  # noqa: S105 - the JWT typ of a logout token
LOGOUT_TOKEN_LIFETIME = timedelta(minutes=2)
# An application is given this long to answer each POST.
TIMEOUT_SECONDS = 5.0
# Retries back off from RETRY_AFTER, doubling up to MAX_BACKOFF, for RETRY_FOR after
# the session ended; then the delivery is given up on (and logged).
RETRY_AFTER = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
RETRY_FOR = timedelta(hours=48)
# A claimed delivery is not taken by another sender for this long.
LEASE = timedelta(seconds=60)


class LogoutSender:
    def __init__(
        self,
        factory: ServiceFactory,
        session_factory: sessionmaker[Session],
        post: Callable[[str, dict[str, str]], int] | None = None,
    ) -> None:
        self.factory = factory
        self.session_factory = session_factory
        self.clock = factory.clock
        self.post = post or _post

    def deliver_due(self, limit: int = 100, should_stop: Callable[[], bool] | None = None) -> int:
        """Try each due logout once (at most `limit`); how many the applications took."""
        delivered = 0
        for _ in range(limit):
            if should_stop is not None and should_stop():
                break
            claimed = self._claim_next()
            if claimed is None:
                break
            delivered += self._deliver(*claimed)
        return delivered

    def _claim_next(self) -> tuple[int, str, str] | None:
        """One due delivery, claimed by a conditional UPDATE that moves it a lease ahead
        (as the outbox's sender claims a message); its id, URI and logout token."""
        for _ in range(20):
            with self.session_factory() as dbsession, dbsession.begin():
                now = self.clock.now()
                candidate = dbsession.execute(
                    select(OidcLogoutDelivery.id, OidcLogoutDelivery.attempts)
                    .where(
                        OidcLogoutDelivery.delivered_at.is_(None),
                        OidcLogoutDelivery.failed_at.is_(None),
                        OidcLogoutDelivery.next_attempt_at <= now,
                    )
                    .order_by(OidcLogoutDelivery.next_attempt_at, OidcLogoutDelivery.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                ).first()
                if candidate is None:
                    return None
                claimed = rows_changed(
                    dbsession,
                    update(OidcLogoutDelivery)
                    .where(
                        OidcLogoutDelivery.id == candidate.id,
                        OidcLogoutDelivery.attempts == candidate.attempts,
                    )
                    .values(attempts=candidate.attempts + 1, next_attempt_at=now + LEASE)
                    .execution_options(synchronize_session=False),
                )
                if claimed != 1:
                    continue
                delivery = dbsession.get(OidcLogoutDelivery, candidate.id)
                assert delivery is not None
                uri = delivery.client.backchannel_logout_uri
                if uri is None:
                    # The application no longer takes logouts: nothing to send.
                    delivery.failed_at = now
                    delivery.last_error = "no back-channel logout URI"
                    continue
                return delivery.id, uri, self._logout_token(dbsession, delivery)
        return None

    def _logout_token(self, dbsession: Session, delivery: OidcLogoutDelivery) -> str:
        now = int(self.clock.now().timestamp())
        key = self.factory.services(dbsession).signing_keys.snapshot().signing[SIGNING_ALGORITHM]
        claims = {
            "iss": self.factory.settings.base_url,
            "aud": delivery.client.client_id,
            "iat": now,
            "exp": now + int(LOGOUT_TOKEN_LIFETIME.total_seconds()),
            "jti": secrets.token_urlsafe(16),
            "sub": delivery.subject,
            "sid": delivery.sid,
            "events": {BACKCHANNEL_EVENT: {}},
        }
        header = {"alg": SIGNING_ALGORITHM, "typ": LOGOUT_TOKEN_TYPE, "kid": key.kid}
        return jwt.encode(header, claims, key, algorithms=[SIGNING_ALGORITHM])

    def _deliver(self, delivery_id: int, uri: str, token: str) -> int:
        error: str | None = None
        try:
            status = self.post(uri, {"logout_token": token})
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except Exception as exc:  # noqa: BLE001 - any failure to reach the application
            error = type(exc).__name__
        with self.session_factory() as dbsession, dbsession.begin():
            delivery = dbsession.get(OidcLogoutDelivery, delivery_id)
            if delivery is None:
                return 0
            now = self.clock.now()
            if error is None:
                delivery.delivered_at = now
                delivery.last_error = None
                return 1
            delivery.last_error = error
            if now - delivery.created_at >= RETRY_FOR:
                delivery.failed_at = now
                log.error(
                    "Giving up on a back-channel logout to client %s after %s attempts: %s",
                    delivery.client.client_id,
                    delivery.attempts,
                    error,
                )
                return 0
            backoff = min(RETRY_AFTER * 2 ** (delivery.attempts - 1), MAX_BACKOFF)
            delivery.next_attempt_at = now + backoff
            log.warning(
                "Back-channel logout to client %s failed (attempt %s), retrying in %s: %s",
                delivery.client.client_id,
                delivery.attempts,
                backoff,
                error,
            )
        return 0


_client: httpx.Client | None = None


def _post(uri: str, form: dict[str, str]) -> int:
    """POST the form; the status code. Redirects are not followed (the URI registered is
    the one told), the body of the answer is never read (an application cannot hold the
    sender with an endless one), and no proxy or .netrc of the environment is used."""
    global _client
    if _client is None:
        _client = httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False)
    with _client.stream("POST", uri, data=form, headers={"Cache-Control": "no-store"}) as answer:
        return answer.status_code


class DueWork:
    """Everything the background sender delivers: the outbox, then the logouts."""

    def __init__(self, *senders: Any) -> None:
        self.senders = senders

    def deliver_due(self, limit: int = 100, should_stop: Callable[[], bool] | None = None) -> int:
        return sum(sender.deliver_due(limit, should_stop) for sender in self.senders)
