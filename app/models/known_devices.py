from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.meta import Base, UTCDateTime


class KnownDevice(Base):
    """A browser that has signed in to an account: it holds a long-lived random `device`
    cookie, of which only the SHA-256 is kept here. A known browser gets its own
    allowance of failed sign-ins, so strangers guessing at the account cannot lock the
    owner out of it; a sign-in from a browser that is not known can be told to the owner."""

    __tablename__ = "known_devices"
    __table_args__ = (UniqueConstraint("account_id", "token_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
