"""Sessions join the request's transaction manager through listeners registered once on
the session factory; sessions made without a manager are left alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import transaction
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.models import Account, get_tm_session


def _accounts(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(Account.email).order_by(Account.email)))


def _add(session: Session, email: str) -> None:
    session.add(Account(email=email, password_hash=None, created_at=datetime.now(UTC)))
    session.flush()


def test_a_managed_session_commits_with_its_manager(session_factory):
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    _add(get_tm_session(session_factory, manager), "kept@example.com")
    manager.commit()
    assert _accounts(session_factory) == ["kept@example.com"]


def test_a_managed_session_is_rolled_back_when_its_manager_aborts(session_factory):
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    _add(get_tm_session(session_factory, manager), "dropped@example.com")
    manager.abort()
    assert _accounts(session_factory) == []


def test_a_managed_session_cannot_commit_behind_its_managers_back(session_factory):
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    session = get_tm_session(session_factory, manager)
    _add(session, "sneaky@example.com")
    with pytest.raises(AssertionError, match="transaction manager"):
        session.commit()
    manager.abort()
    assert _accounts(session_factory) == []


def test_two_managers_at_once_each_decide_for_their_own_session(session_factory):
    first = transaction.TransactionManager(explicit=True)
    second = transaction.TransactionManager(explicit=True)
    first.begin()
    second.begin()
    first_session = get_tm_session(session_factory, first)
    _add(get_tm_session(session_factory, second), "second@example.com")
    second.commit()
    # (SQLite has one writer at a time: the first writes once the second is done.)
    _add(first_session, "first@example.com")
    first.abort()
    assert _accounts(session_factory) == ["second@example.com"]


def test_a_session_without_a_manager_commits_on_its_own(session_factory):
    with session_factory() as session, session.begin():
        _add(session, "plain@example.com")
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 1


def test_our_listeners_are_the_ones_zope_sqlalchemy_registers(monkeypatch):
    """app/models/transactions.py re-implements zope.sqlalchemy's listeners (to register
    them once per factory). If a release of zope.sqlalchemy listens to other events, or
    renames its handlers, this fails before sessions silently stop joining requests."""
    import zope.sqlalchemy
    from sqlalchemy import event

    from app.models.transactions import LISTENED_EVENTS, _ManagerFromSessionInfo

    registered: list[tuple[str, str]] = []
    monkeypatch.setattr(
        event, "listen", lambda target, name, handler: registered.append((name, handler.__name__))
    )
    zope.sqlalchemy.register(sessionmaker())

    assert [name for name, _ in registered] == list(LISTENED_EVENTS)
    for name, handler in registered:
        # Each of zope.sqlalchemy's handlers is one we override.
        assert handler == name
        assert name in vars(_ManagerFromSessionInfo), name
