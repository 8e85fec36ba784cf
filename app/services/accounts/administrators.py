"""Who keeps the site administered: an account may not give up the role, be disabled or
delete itself if it is the last active administrator."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Account

# An administrator who can act: neither disabled nor waiting to be erased.
ACTIVE_ADMINISTRATOR = (
    Account.is_admin.is_(True),
    Account.is_disabled.is_(False),
    Account.deletion_requested_at.is_(None),
)


def other_active_administrators(dbsession: Session, account_id: int) -> Any:
    """How many active administrators there are besides the account, as a subquery for
    a conditional UPDATE, once their rows are locked (PostgreSQL; SQLite has one writer
    at a time): of two administrators giving up the role, disabling each other or
    deleting themselves at once, the second finds none left."""
    dbsession.execute(
        select(Account.id).where(*ACTIVE_ADMINISTRATOR).order_by(Account.id).with_for_update()
    )
    return (
        select(func.count())
        .select_from(Account)
        .where(*ACTIVE_ADMINISTRATOR, Account.id != account_id)
        .scalar_subquery()
    )
