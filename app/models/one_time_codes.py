from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.accounts import Account
from app.models.meta import Base, UTCDateTime

# What a code lets its holder do; the emailed link says which page it opens.
PURPOSE_RESET = "reset"
PURPOSE_INVITE = "invite"
PURPOSE_VERIFY_EMAIL = "verify_email"
PURPOSE_CHANGE_EMAIL = "change_email"
# The "this wasn't me" link in the email about a sign-in from a new browser.
PURPOSE_NOT_ME = "not_me"
# A change of address undone from the old address (new_email holds the old address).
PURPOSE_UNDO_EMAIL_CHANGE = "undo_email"
# The link that brings back an account waiting to be erased.
PURPOSE_RESTORE = "restore"
# A code to sign in with, typed into the browser that asked for it (code_hash covers the
# code and that browser's token; see app/services/signin/email_codes.py).
PURPOSE_SIGN_IN = "sign_in"
EVERY_PURPOSE = (
    PURPOSE_RESET,
    PURPOSE_INVITE,
    PURPOSE_VERIFY_EMAIL,
    PURPOSE_CHANGE_EMAIL,
    PURPOSE_NOT_ME,
    PURPOSE_UNDO_EMAIL_CHANGE,
    PURPOSE_RESTORE,
    PURPOSE_SIGN_IN,
)


class OneTimeCode(Base):
    """A one-time code sent by email: a password reset, an invitation, the confirmation of
    a new account's address, or of a new address for an account (new_email).

    Only the SHA-256 of the code is kept; the code itself exists only in the email.
    """

    __tablename__ = "one_time_codes"
    __table_args__ = (Index("ix_one_time_codes_account_id_used_at", "account_id", "used_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(20), default=PURPOSE_RESET)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_ip: Mapped[str | None] = mapped_column(String(45))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_ip: Mapped[str | None] = mapped_column(String(45))
    # For PURPOSE_CHANGE_EMAIL: the address the account moves to once it is confirmed.
    new_email: Mapped[str | None] = mapped_column(String(254))
    # For PURPOSE_SIGN_IN: the wrong codes tried; the code is dead after three.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    account: Mapped[Account] = relationship(lazy="joined")
