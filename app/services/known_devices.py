"""Browsers known to an account, by the long-lived random token of their `device` cookie."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.models import Account, KnownDevice

from .clock import Clock
from .codes import digest, new_code
from .statements import insert_unless_present

# A device cookie that is not one of ours (43 url-safe characters) is ignored.
MAX_TOKEN_LENGTH = 100


def usable_token(token: str | None) -> str | None:
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    return token


class KnownDeviceService:
    def __init__(self, dbsession: Session, clock: Clock) -> None:
        self.dbsession = dbsession
        self.clock = clock

    def is_known(self, account_id: int, token: str | None) -> bool:
        """Whether the browser holding this token has signed in to the account before."""
        token = usable_token(token)
        if token is None:
            return False
        found = self.dbsession.scalar(
            select(KnownDevice.id).where(
                KnownDevice.account_id == account_id, KnownDevice.token_hash == digest(token)
            )
        )
        return found is not None

    def remember(self, account: Account, token: str | None) -> str:
        """Record a sign-in from this browser; returns the token its cookie should hold:
        its own, or a new one if it had none (one token per browser, whatever the
        accounts it signs in to)."""
        token = usable_token(token) or new_code()
        now = self.clock.now()
        values = {
            "account_id": account.id,
            "token_hash": digest(token),
            "first_seen_at": now,
            "last_seen_at": now,
        }
        unique = [KnownDevice.account_id, KnownDevice.token_hash]
        if insert_unless_present(self.dbsession, KnownDevice, values, unique) is None:
            self.dbsession.execute(
                update(KnownDevice)
                .where(KnownDevice.account_id == account.id)
                .where(KnownDevice.token_hash == values["token_hash"])
                .values(last_seen_at=now)
                .execution_options(synchronize_session=False)
            )
        return token

    def forget_all(self, account_id: int) -> None:
        """No browser is known to the account any more."""
        self.dbsession.execute(delete(KnownDevice).where(KnownDevice.account_id == account_id))
