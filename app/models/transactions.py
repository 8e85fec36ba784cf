"""Sessions that commit and abort with the request's transaction (pyramid_tm).

zope.sqlalchemy joins a session to a transaction manager through seven SQLAlchemy event
listeners. Registering them on every request's session costs more than the query of a
simple page, so they are registered once, on the session factory, and each listener
finds the session's manager in `session.info`. Sessions made by the same factory
without a manager (the outbox sender, the pruner, scripts) are left alone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker
from zope.sqlalchemy.datamanager import (
    ZopeStatus,
    ZopeTransactionEvents,
    join_transaction,
    mark_changed,
)

MANAGER_KEY = "transaction_manager"


class _ManagerFromSessionInfo(ZopeTransactionEvents):
    """zope.sqlalchemy's listeners, each looking up the manager of the session at hand."""

    def after_begin(self, session: Session, transaction: Any, connection: Any) -> None:
        self._join(session)

    def after_attach(self, session: Session, instance: Any) -> None:
        self._join(session)

    def after_flush(self, session: Session, flush_context: Any) -> None:
        self._mark_changed(session)

    def after_bulk_update(self, update_context: Any) -> None:
        self._mark_changed(update_context.session)

    def after_bulk_delete(self, delete_context: Any) -> None:
        self._mark_changed(delete_context.session)

    def before_commit(self, session: Session) -> None:
        manager = session.info.get(MANAGER_KEY)
        if manager is not None and not session.in_nested_transaction():
            # The same guard as zope.sqlalchemy's: only the manager commits.
            assert manager.get().status == ZopeStatus.COMMITTING, (
                "Transaction must be committed using the transaction manager"
            )

    def do_orm_execute(self, execute_state: Any) -> None:
        if execute_state.is_orm_statement and (
            execute_state.is_update or execute_state.is_insert or execute_state.is_delete
        ):
            self._mark_changed(execute_state.session)

    def _join(self, session: Session) -> None:
        manager = session.info.get(MANAGER_KEY)
        if manager is not None:
            join_transaction(session, self.initial_state, manager, self.keep_session)

    def _mark_changed(self, session: Session) -> None:
        manager = session.info.get(MANAGER_KEY)
        if manager is not None:
            mark_changed(session, manager, self.keep_session)


# The session events zope.sqlalchemy.register() listens to, as of the versions setup.py
# allows; tests/unit/models/test_transactions.py fails if a release listens to others.
LISTENED_EVENTS = (
    "after_begin",
    "after_attach",
    "after_flush",
    "after_bulk_update",
    "after_bulk_delete",
    "before_commit",
    "do_orm_execute",
)


def join_managed_transactions(session_factory: sessionmaker[Session]) -> None:
    """Let sessions of this factory that carry a transaction manager join it."""
    events = _ManagerFromSessionInfo()
    for name in LISTENED_EVENTS:
        event.listen(session_factory, name, getattr(events, name))


def managed_session(session_factory: sessionmaker[Session], transaction_manager: Any) -> Session:
    """A session committed or aborted with the transaction manager's transaction."""
    return session_factory(info={MANAGER_KEY: transaction_manager})
