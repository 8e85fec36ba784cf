from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from app.models.meta import Base, UTCDateTime


def new_public_id() -> str:
    """The subject (`sub`) other applications know the account by: 128 random bits,
    never the row id or the address, so that it says nothing and never changes."""
    return secrets.token_hex(16)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Always lower-cased and trimmed before it gets here (see services.emails).
    email: Mapped[str] = mapped_column(String(254), unique=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    # None for an invited account that has not chosen a password yet.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_ip: Mapped[str | None] = mapped_column(String(45))
    login_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the owner proved the mailbox (a confirmation link, a reset, an invitation);
    # None for an account registered but not yet confirmed.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The authenticator app's shared secret, Fernet-encrypted (None: no authenticator
    # app), and the last 30-second time step a code was accepted for: each is accepted
    # once, decided by a conditional UPDATE of this column.
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The random user handle passkeys carry for this account (WebAuthn's user.id): set
    # with the first passkey, never the email or the id.
    webauthn_user_handle: Mapped[bytes | None] = mapped_column(LargeBinary, unique=True)
    # When a sign-in found the password in a known breach: until it is changed, every
    # signed-in page leads to the change-password form. None once it is changed.
    password_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language the owner chose ("de"), for the pages and the emails; None: the
    # browser's.
    locale: Mapped[str | None] = mapped_column(String(10))
    # The name the owner gave (optional): used in greetings and emails, and given to
    # applications as the `name` claim of the `profile` scope. Shown escaped, never
    # trusted as markup; at most MAX_DISPLAY_NAME characters.
    display_name: Mapped[str | None] = mapped_column(String(80))
    # When the owner asked for the account to be deleted: until the grace period
    # (accounts.deletion_grace_days) ends, nothing signs in and the emailed restore link
    # brings it back; then the housekeeping erases it. None: not being deleted.
    deletion_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def may_sign_in(self) -> bool:
        """Neither disabled by an administrator nor waiting to be erased."""
        return not self.is_disabled and self.deletion_requested_at is None

    def __repr__(self) -> str:
        return f"<Account id={self.id}>"
