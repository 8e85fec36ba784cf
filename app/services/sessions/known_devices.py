"""Browsers known to an account, by the long-lived random token of their `device` cookie."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.models import Account, KnownDevice
from app.services.kernel.clock import Clock
from app.services.kernel.codes import digest, new_code
from app.services.kernel.statements import insert_unless_present

# A device cookie that is not one of ours (43 url-safe characters) is ignored.
MAX_TOKEN_LENGTH = 100


def usable_token(token: str | None) -> str | None:
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    return token


class RememberedDevice(NamedTuple):
    token: str
    id: int
    is_new: bool


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

    def remember(self, account: Account, token: str | None) -> RememberedDevice:
        """Record a sign-in from this browser: its token (its own, or a new one if it had
        none: one token per browser, whatever the accounts it signs in to), its row, and
        whether the account had not seen it before."""
        token = usable_token(token) or new_code()
        now = self.clock.now()
        values = {
            "account_id": account.id,
            "token_hash": digest(token),
            "first_seen_at": now,
            "last_seen_at": now,
        }
        unique = [KnownDevice.account_id, KnownDevice.token_hash]
        device_id = insert_unless_present(self.dbsession, KnownDevice, values, unique)
        if device_id is not None:
            return RememberedDevice(token, device_id, is_new=True)
        device_id = self.dbsession.scalar(
            update(KnownDevice)
            .where(KnownDevice.account_id == account.id)
            .where(KnownDevice.token_hash == values["token_hash"])
            .values(last_seen_at=now)
            .returning(KnownDevice.id)
            .execution_options(synchronize_session=False)
        )
        assert device_id is not None
        return RememberedDevice(token, device_id, is_new=False)

    def knows_any(self, account_id: int) -> bool:
        """Whether any browser has signed in to the account before (and is still known)."""
        found = self.dbsession.scalar(
            select(KnownDevice.id).where(KnownDevice.account_id == account_id).limit(1)
        )
        return found is not None

    def forget_all(self, account_id: int) -> None:
        """No browser is known to the account any more."""
        self.dbsession.execute(delete(KnownDevice).where(KnownDevice.account_id == account_id))
