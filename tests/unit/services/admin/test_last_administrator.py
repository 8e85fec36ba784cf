"""docs/security.md 50: the last active administrator cannot be disabled, even by two
administrators disabling each other at the same moment (on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Account, get_engine, get_session_factory
from app.services.kernel.errors import AdminActionRefused
from tests.conftest import STRONG_PASSWORD, make_services


def _active_admins(session: Session) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Account)
        .where(Account.is_admin.is_(True), Account.is_disabled.is_(False))
    )


def test_two_administrators_disabling_each_other_at_once_leave_one(
    dbsession: Session, db_url: str, clock, hasher
) -> None:
    setup = make_services(dbsession, clock, hasher).accounts
    first = setup.create_account("first@example.com", STRONG_PASSWORD, is_admin=True)
    second = setup.create_account("second@example.com", STRONG_PASSWORD, is_admin=True)
    dbsession.commit()
    first_id, second_id = first.id, second.id

    engine = get_engine({"sqlalchemy.url": db_url})
    other = get_session_factory(engine)()
    outcome: list[str] = []
    try:
        # The first administrator's request has disabled the second, not yet committed.
        one = make_services(dbsession, clock, hasher)
        one.admin.disable(dbsession.get(Account, second_id), actor=dbsession.get(Account, first_id))

        def the_second_disables_the_first() -> None:
            two = make_services(other, clock, hasher)
            try:
                two.admin.disable(other.get(Account, first_id), actor=other.get(Account, second_id))
                other.commit()
                outcome.append("disabled")
            except AdminActionRefused:
                other.rollback()
                outcome.append("refused")

        thread = threading.Thread(target=the_second_disables_the_first)
        thread.start()
        thread.join(0.5)  # it reaches the disable and waits for the first to finish
        dbsession.commit()
        thread.join(30)
    finally:
        other.close()
        engine.dispose()

    assert outcome == ["refused"]
    dbsession.expire_all()
    assert _active_admins(dbsession) == 1
    assert dbsession.get(Account, first_id).is_disabled is False


def test_the_last_active_administrator_is_not_disabled(dbsession: Session, clock, hasher) -> None:
    services = make_services(dbsession, clock, hasher)
    admin = services.accounts.create_account("admin@example.com", STRONG_PASSWORD, is_admin=True)
    other = services.accounts.create_account("other@example.com", STRONG_PASSWORD, is_admin=True)
    user = services.accounts.create_account("user@example.com", STRONG_PASSWORD)
    services.admin.disable(other, actor=admin)

    with pytest.raises(AdminActionRefused, match="last active administrator"):
        services.admin.disable(admin, actor=other)
    services.admin.disable(user, actor=admin)

    assert user.is_disabled and not admin.is_disabled
    assert _active_admins(dbsession) == 1
