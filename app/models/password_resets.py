from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import Account
from .meta import Base, UTCDateTime

PURPOSE_RESET = "reset"
PURPOSE_INVITE = "invite"


class PasswordReset(Base):
    """A one-time code that lets its holder choose the account's password.

    Only the SHA-256 of the code is kept; the code itself exists only in the email.
    """

    __tablename__ = "password_resets"
    __table_args__ = (Index("ix_password_resets_account_id_used_at", "account_id", "used_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(10), default=PURPOSE_RESET)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_ip: Mapped[str | None] = mapped_column(String(45))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_ip: Mapped[str | None] = mapped_column(String(45))

    account: Mapped[Account] = relationship(lazy="joined")
