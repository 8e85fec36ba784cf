"""An administrator makes an account an administrator or takes the role back: recorded,
the owner told, and the last active administrator keeps it, even when two
administrators take each other's role at the same moment (on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Account, AccountEvent, get_engine, get_session_factory
from app.services.kernel import audit as events
from app.services.kernel.errors import AdminActionRefused
from tests.conftest import STRONG_PASSWORD, make_services
from tests.support.outbox import emails_to


def _admins(session: Session) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Account)
        .where(Account.is_admin.is_(True), Account.is_disabled.is_(False))
    )


def test_the_role_is_given_and_taken_back_recorded_and_told(services, dbsession: Session):
    root = services.accounts.create_account("root@example.com", STRONG_PASSWORD, is_admin=True)
    user = services.accounts.create_account("user@example.com", STRONG_PASSWORD)

    assert services.admin.set_role(user, True, actor=root) is True
    assert user.is_admin is True
    assert services.admin.set_role(user, True, actor=root) is False  # nothing to change
    assert services.admin.set_role(user, False, actor=root) is True
    assert user.is_admin is False

    changes = dbsession.scalars(
        select(AccountEvent).where(AccountEvent.kind == events.ADMIN_ROLE_CHANGED)
    ).all()
    assert [(e.account_id, e.actor_id, e.details) for e in changes] == [
        (user.id, root.id, {"is_admin": True}),
        (user.id, root.id, {"is_admin": False}),
    ]
    assert [m.template for m in emails_to(dbsession, "user@example.com")] == [
        "role_granted",
        "role_revoked",
    ]


def test_the_last_active_administrator_keeps_the_role(services, dbsession: Session):
    root = services.accounts.create_account("root@example.com", STRONG_PASSWORD, is_admin=True)
    gone = services.accounts.create_account("gone@example.com", STRONG_PASSWORD, is_admin=True)
    gone.is_disabled = True
    dbsession.flush()

    with pytest.raises(AdminActionRefused) as refused:
        services.admin.set_role(root, False, actor=root)
    assert refused.value.code == "last_administrator"
    assert root.is_admin is True
    # A disabled administrator is no active one: its role can go.
    assert services.admin.set_role(gone, False, actor=root) is True
    # With another active administrator, one may even give up its own role.
    other = services.accounts.create_account("other@example.com", STRONG_PASSWORD, is_admin=True)
    assert services.admin.set_role(root, False, actor=root) is True
    assert _admins(dbsession) == 1 and other.is_admin


def test_two_administrators_taking_each_others_role_at_once_leave_one(
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
        one = make_services(dbsession, clock, hasher)
        one.admin.set_role(
            dbsession.get(Account, second_id), False, actor=dbsession.get(Account, first_id)
        )

        def the_second_takes_the_firsts() -> None:
            two = make_services(other, clock, hasher)
            try:
                two.admin.set_role(
                    other.get(Account, first_id), False, actor=other.get(Account, second_id)
                )
                other.commit()
                outcome.append("taken")
            except AdminActionRefused:
                other.rollback()
                outcome.append("refused")

        thread = threading.Thread(target=the_second_takes_the_firsts)
        thread.start()
        thread.join(0.5)
        dbsession.commit()
        thread.join(30)
    finally:
        other.close()
        engine.dispose()

    assert outcome == ["refused"]
    dbsession.expire_all()
    assert _admins(dbsession) == 1
    assert dbsession.get(Account, first_id).is_admin is True
