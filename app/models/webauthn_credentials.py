from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.meta import Base, UTCDateTime


class WebAuthnCredential(Base):
    """A passkey: the public key of a credential made by the owner's authenticator (a
    phone, a laptop, a security key). The private key never leaves the authenticator."""

    __tablename__ = "webauthn_credentials"
    __table_args__ = (Index("ix_webauthn_credentials_account_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    # The COSE public key, as the authenticator gave it.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The authenticator's signature counter; one that goes backwards means a cloned key.
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    # How the browser reaches it: "internal", "hybrid", "usb", ... comma-separated.
    transports: Mapped[str] = mapped_column(String(200), default="")
    # What the owner calls it ("Laptop", "Phone").
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SpentChallenge(Base):
    """A passkey ceremony's challenge that has been answered. The challenge itself waits
    in the browser's (signed, encrypted) session cookie, which an attacker holding an old
    cookie could send again: this table is what makes each challenge single use. Only
    its SHA-256 is kept, for as long as a challenge lives, then pruned."""

    __tablename__ = "spent_passkey_challenges"

    challenge_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    spent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
