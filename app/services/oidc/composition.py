"""The identity provider's services, built on first use for one unit of work; part of
app/services/composition.py's Services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet
from sqlalchemy.orm import Session

from app.services.kernel.clock import Clock
from app.services.kernel.secret_keys import (
    OIDC_SIGN_IN_REQUESTS,
    OIDC_SIGNING_KEYS,
    fernet_for,
    key_for,
)
from app.services.oidc.clients import OidcClientService
from app.services.oidc.consents import OidcConsents
from app.services.oidc.ended_sessions import EndedSessions
from app.services.oidc.grants import OidcGrants
from app.services.oidc.protocol import Provider
from app.services.oidc.signing_keys import KeyRing, SigningKeys
from app.settings import AppSettings

if TYPE_CHECKING:
    from app.services.kernel.context import ServiceContext
    from app.services.sessions.login_sessions import LoginSessionService


@dataclass(frozen=True)
class OidcProcessParts:
    """What the provider keeps as long as the process: its issuer, the key that
    encrypts the signing keys, and the signing keys as last read (KeyRing)."""

    issuer: str
    clock: Clock
    key_cipher: Fernet
    key_ring: KeyRing
    key_rotation: timedelta
    # Signs the mark the authorization endpoint leaves on its own URL when it sends the
    # person to sign in (protocol.Provider.sign_in_requested).
    sign_in_request_key: bytes

    @classmethod
    def from_settings(cls, settings: AppSettings, clock: Clock) -> OidcProcessParts:
        return cls(
            issuer=settings.base_url,
            clock=clock,
            key_cipher=fernet_for(settings.secret, OIDC_SIGNING_KEYS),
            key_ring=KeyRing(),
            key_rotation=timedelta(days=settings.oidc_key_rotation_days),
            sign_in_request_key=key_for(settings.secret, OIDC_SIGN_IN_REQUESTS),
        )


class OidcServices:
    oidc_parts: OidcProcessParts
    dbsession: Session

    if TYPE_CHECKING:
        # Built by Services, of which this is a part.
        @property
        def context(self) -> ServiceContext: ...

        @property
        def login_sessions(self) -> LoginSessionService: ...

    def sessions_ended(self, session_ids: list[int]) -> None:
        """Told by the login sessions each time some end."""
        self.oidc_ended_sessions.sessions_ended(session_ids)

    @cached_property
    def oidc_clients(self) -> OidcClientService:
        return OidcClientService(self.context)

    @cached_property
    def oidc_grants(self) -> OidcGrants:
        return OidcGrants(self.context, self.login_sessions)

    @cached_property
    def oidc_consents(self) -> OidcConsents:
        return OidcConsents(self.context)

    @cached_property
    def oidc_ended_sessions(self) -> EndedSessions:
        return EndedSessions(self.context)

    @cached_property
    def signing_keys(self) -> SigningKeys:
        parts = self.oidc_parts
        return SigningKeys(
            self.dbsession,
            parts.clock,
            parts.key_cipher,
            parts.key_ring,
            rotate_after=parts.key_rotation,
        )

    @cached_property
    def oidc_provider(self) -> Provider:
        return Provider(
            self.oidc_clients,
            self.oidc_grants,
            self.signing_keys,
            issuer=self.oidc_parts.issuer,
            clock=self.oidc_parts.clock,
            sign_in_request_key=self.oidc_parts.sign_in_request_key,
        )
