"""The identity provider's housekeeping, run with the pruner: the signing keys' scheduled
rotation, and the deletion of old keys, codes, refresh tokens and logout deliveries."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session, sessionmaker

from app.models import OidcLogoutDelivery
from app.services.composition import ServiceFactory
from app.services.kernel.statements import rows_changed

log = logging.getLogger(__name__)

# Spent codes and ended refresh tokens are kept a day, so that a replay can still be
# told from a made-up token and revoke what it must; deliveries a week.
GRANTS_KEPT = timedelta(days=1)
DELIVERIES_KEPT = timedelta(days=7)


class OidcHousekeeping:
    def __init__(self, factory: ServiceFactory, session_factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.session_factory = session_factory

    def run(self) -> dict[str, int]:
        now = self.factory.clock.now()
        with self.session_factory() as dbsession, dbsession.begin():
            services = self.factory.services(dbsession)
            rotated = services.signing_keys.ensure()
            counts = {
                "keys_made": len(rotated),
                "keys_removed": services.signing_keys.prune(),
                "grants": services.oidc_ended_sessions.prune(now - GRANTS_KEPT),
                "logout_deliveries": rows_changed(
                    dbsession,
                    delete(OidcLogoutDelivery).where(
                        or_(
                            OidcLogoutDelivery.delivered_at < now - DELIVERIES_KEPT,
                            OidcLogoutDelivery.failed_at < now - DELIVERIES_KEPT,
                        )
                    ),
                ),
            }
        if any(counts.values()):
            log.info(
                "Identity provider: %(keys_made)s signing keys made, %(keys_removed)s removed,"
                " %(grants)s codes and refresh tokens and %(logout_deliveries)s logout"
                " deliveries deleted",
                counts,
            )
        return counts
