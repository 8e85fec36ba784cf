from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.meta import Base, UTCDateTime


class OutgoingEmail(Base):
    """The outbox. A message is the name of an email and the parameters it is rendered
    from when sent, Fernet-encrypted and erased once it is sent (a reset or invitation
    email carries a live code). The subject is filled in when it is sent.

    Messages queued before migration 0005 hold rendered bodies instead (body_text,
    body_html, encrypted the same way) and no template; the sender sends those as
    they are."""

    __tablename__ = "outgoing_emails"
    __table_args__ = (
        Index("ix_outgoing_emails_sent_at_next_attempt_at", "sent_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    template: Mapped[str | None] = mapped_column(String(40))
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    subject: Mapped[str | None] = mapped_column(String(255))
    body_text: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_html: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
