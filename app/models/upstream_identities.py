from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.meta import Base, UTCDateTime


class UpstreamIdentity(Base):
    """An account at another provider (Google, GitHub, another OpenID Connect issuer)
    linked to a local account: signing in there signs in here. Linked only with the
    local account's own proof, never by a matching address alone."""

    __tablename__ = "upstream_identities"
    __table_args__ = (
        UniqueConstraint("provider", "subject", name="uq_upstream_identities_subject"),
        Index("ix_upstream_identities_account_id", "account_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # The provider's name in the settings (signin.providers).
    provider: Mapped[str] = mapped_column(String(30))
    # Who the provider says the person is: its `sub` (or GitHub's numeric user id),
    # which never changes, unlike the address.
    subject: Mapped[str] = mapped_column(String(255))
    # The address the provider gave when it was linked, to tell links apart in the list.
    email: Mapped[str | None] = mapped_column(String(254))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
