from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.meta import Base, UTCDateTime
from app.models.oidc_clients import OidcClient


class OidcLogoutDelivery(Base):
    """A back-channel logout owed to a client: a login session it holds tokens of has
    ended. Kept until the client answers 2xx (or the attempts run out), like the
    outbox; one row per client and session, so an ended session is told once."""

    __tablename__ = "oidc_logout_deliveries"
    __table_args__ = (
        UniqueConstraint("client_pk", "login_session_id"),
        Index("ix_oidc_logout_deliveries_due", "delivered_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("oidc_clients.id", ondelete="CASCADE"))
    # The session's id (no foreign key: the session may be pruned before delivery),
    # and the subject and sid the logout token names.
    login_session_id: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(64))
    sid: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    client: Mapped[OidcClient] = relationship(lazy="joined")
