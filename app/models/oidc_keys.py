from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.meta import Base, UTCDateTime


class OidcKey(Base):
    """A key that signs ID tokens, access tokens and logout tokens.

    The private key is PEM, Fernet-encrypted with a key derived from the app's secret;
    the public JWK is what the JWKS document publishes. A new key is published at
    created_at and signs from not_before on; a retired key signs nothing and stays in
    the JWKS until the tokens it signed have expired."""

    __tablename__ = "oidc_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    algorithm: Mapped[str] = mapped_column(String(10))
    private_key: Mapped[bytes] = mapped_column(LargeBinary)
    public_jwk: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
