"""What the services wrote down: the account events, oldest first, and how many rows
a table holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Account, AccountEvent, RecoveryCode


def account_events(session: Session, kind: str | None = None) -> list[AccountEvent]:
    """The account events recorded, oldest first (only those of this kind, if given)."""
    query = select(AccountEvent).order_by(AccountEvent.id)
    if kind is not None:
        query = query.where(AccountEvent.kind == kind)
    return list(session.scalars(query))


def recorded(session: Session) -> list[tuple[str, int | None, dict[str, Any]]]:
    """Each event recorded, oldest first: its kind, its account and its details."""
    return [(e.kind, e.account_id, e.details) for e in account_events(session)]


def recorded_as(session: Session, kind: str) -> list[tuple[int | None, int | None, Any]]:
    """The events of one kind, oldest first: whose account, who acted, and the details."""
    return [(e.account_id, e.actor_id, e.details) for e in account_events(session, kind)]


def count(session: Session, model: Any) -> int:
    """How many rows the table of this model holds."""
    return session.scalar(select(func.count()).select_from(model))


def recovery_codes_of(session: Session, account: Account) -> int:
    """How many recovery codes this account holds, spent or not."""
    return len(
        session.scalars(select(RecoveryCode).where(RecoveryCode.account_id == account.id)).all()
    )
