"""What the provider has granted: consents, authorization codes and refresh tokens.

Every code and token belongs to a login session (the browser sign-in it was issued
from): when that session ends, they end with it. Codes and tokens are kept only as
SHA-256 digests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.login_sessions import LoginSession
from app.models.meta import Base, UTCDateTime
from app.models.oidc_clients import OidcClient


class OidcConsent(Base):
    """An account let a third-party client have these scopes (space-separated, sorted)."""

    __tablename__ = "oidc_consents"
    __table_args__ = (UniqueConstraint("account_id", "client_pk"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    client_pk: Mapped[int] = mapped_column(
        ForeignKey("oidc_clients.id", ondelete="CASCADE"), index=True
    )
    scopes: Mapped[str] = mapped_column(String(500))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime)

    client: Mapped[OidcClient] = relationship(lazy="joined")


class OidcCode(Base):
    """An authorization code: single use (used_at set by one conditional UPDATE), bound
    to its client, redirect URI and PKCE challenge, and short-lived."""

    __tablename__ = "oidc_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(
        ForeignKey("oidc_clients.id", ondelete="CASCADE"), index=True
    )
    login_session_id: Mapped[int] = mapped_column(
        ForeignKey("login_sessions.id", ondelete="CASCADE"), index=True
    )
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(500))
    nonce: Mapped[str | None] = mapped_column(String(255))
    code_challenge: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[OidcClient] = relationship(lazy="joined")
    login_session: Mapped[LoginSession] = relationship(lazy="joined")


class OidcRefreshToken(Base):
    """A refresh token. Each use replaces it by a new one of the same family; a token
    used twice means a copy is in other hands, and the whole family is revoked."""

    __tablename__ = "oidc_refresh_tokens"
    __table_args__ = (Index("ix_oidc_refresh_tokens_family", "family"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("oidc_refresh_tokens.id", ondelete="SET NULL")
    )
    # The code the family started from: a replayed code revokes it.
    code_id: Mapped[int | None] = mapped_column(
        ForeignKey("oidc_codes.id", ondelete="SET NULL"), index=True
    )
    client_pk: Mapped[int] = mapped_column(
        ForeignKey("oidc_clients.id", ondelete="CASCADE"), index=True
    )
    login_session_id: Mapped[int] = mapped_column(
        ForeignKey("login_sessions.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[OidcClient] = relationship(lazy="joined")
    login_session: Mapped[LoginSession] = relationship(lazy="joined")
