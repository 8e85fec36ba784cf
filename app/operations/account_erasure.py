"""The housekeeping's erasure of accounts whose grace period is over (run with the
pruner, by the outbox thread or the mail worker): each in a transaction of its own, so
that one account's trouble leaves the others' erasure done."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from app.services.composition import ServiceFactory

log = logging.getLogger(__name__)


class AccountErasure:
    def __init__(self, factory: ServiceFactory, session_factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.session_factory = session_factory

    def run(self) -> int:
        """Erase every account that is due; how many were erased."""
        with self.session_factory() as dbsession:
            due = self.factory.services(dbsession).account_deletion.due()
        erased = 0
        for account_id in due:
            with self.session_factory() as dbsession, dbsession.begin():
                # Restored since it was found: still_due is False and nothing happens.
                still_due = self.factory.services(dbsession).account_deletion.erase(
                    account_id, due_only=True
                )
            erased += still_due
        if erased:
            log.info("Erased %s accounts whose grace period was over", erased)
        return erased
