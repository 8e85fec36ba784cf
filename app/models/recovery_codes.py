from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.meta import Base, UTCDateTime


class RecoveryCode(Base):
    """A single-use code that stands in for the second factor when the device is lost.
    Only its SHA-256 is kept; a new set deletes the old one."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_account_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
