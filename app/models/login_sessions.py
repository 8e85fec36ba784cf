from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import Account
from app.models.known_devices import KnownDevice
from app.models.meta import Base, UTCDateTime

# How a session's token travels: a browser's cookie, or an application's bearer token
# (the JSON API's app mode). A token only opens a session of its own kind.
BROWSER_SESSION = "browser"
APP_SESSION = "app"


class LoginSession(Base):
    """One signed-in device. The cookie holds a random token; only its SHA-256 is here."""

    __tablename__ = "login_sessions"
    __table_args__ = (Index("ix_login_sessions_account_id_revoked_at", "account_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The session's name in the identity provider's tokens (`sid`): random, public, and
    # the same in every token issued from this session.
    sid: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: secrets.token_hex(16))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the person last proved who they are in this session (sign-in or
    # re-authentication), and how they signed in ("password", "password+totp", ...).
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sign_in_method: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10), default=BROWSER_SESSION, server_default="browser")
    # The browser it was signed in from (its device cookie), if still known.
    known_device_id: Mapped[int | None] = mapped_column(
        ForeignKey("known_devices.id", ondelete="SET NULL"), index=True
    )

    account: Mapped[Account] = relationship(lazy="joined")
    # Loaded only by the device list, which asks for it.
    known_device: Mapped[KnownDevice | None] = relationship(lazy="raise")
