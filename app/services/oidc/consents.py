"""What a person let third-party applications have (docs/security.md 66), the list of
connected applications, and disconnecting one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.models import (
    LoginSession,
    OidcClient,
    OidcConsent,
    OidcRefreshToken,
)
from app.services.kernel import audit as events
from app.services.kernel.context import ContextService
from app.services.kernel.statements import insert_unless_present
from app.services.oidc.grants import revoke_refresh_tokens, scope_set, scope_text


@dataclass(frozen=True)
class ConnectedApp:
    client: OidcClient
    scopes: frozenset[str]
    granted_at: datetime
    last_used_at: datetime


class OidcConsents(ContextService):
    def has_consent(self, account_id: int, client: OidcClient, scopes: frozenset[str]) -> bool:
        if client.first_party:
            return True
        consent = self._consent(account_id, client)
        return consent is not None and scopes <= scope_set(consent.scopes)

    def _consent(self, account_id: int, client: OidcClient) -> OidcConsent | None:
        return self.dbsession.scalars(
            select(OidcConsent).where(
                OidcConsent.account_id == account_id, OidcConsent.client_pk == client.id
            )
        ).first()

    def give_consent(self, account_id: int, client: OidcClient, scopes: frozenset[str]) -> None:
        """Remember that the account lets the client have these scopes (added to what it
        allowed before). Two tabs allowing at once leave one row."""
        now = self.clock.now()
        added = insert_unless_present(
            self.dbsession,
            OidcConsent,
            {
                "account_id": account_id,
                "client_pk": client.id,
                "scopes": scope_text(scopes),
                "granted_at": now,
                "last_used_at": now,
            },
            unique=[OidcConsent.account_id, OidcConsent.client_pk],
        )
        if added is None:
            consent = self._consent(account_id, client)
            if consent is not None:
                consent.scopes = scope_text(scope_set(consent.scopes) | scopes)
                consent.last_used_at = now
                self.dbsession.flush()
        self.audit.record(
            events.OIDC_CONSENT_GIVEN,
            account_id,
            client_id=client.client_id,
            scopes=scope_text(scopes),
        )

    def note_use(self, account_id: int, client: OidcClient, scopes: frozenset[str]) -> None:
        """The client has just signed the account in: when, for the list of connected
        applications. A first-party client asks no consent; its row is made here."""
        consent = self._consent(account_id, client)
        now = self.clock.now()
        if consent is not None:
            consent.last_used_at = now
            return
        insert_unless_present(
            self.dbsession,
            OidcConsent,
            {
                "account_id": account_id,
                "client_pk": client.id,
                "scopes": scope_text(scopes),
                "granted_at": now,
                "last_used_at": now,
            },
            unique=[OidcConsent.account_id, OidcConsent.client_pk],
        )

    def connected_apps(self, account_id: int) -> list[ConnectedApp]:
        consents = self.dbsession.scalars(
            select(OidcConsent)
            .where(OidcConsent.account_id == account_id)
            .order_by(OidcConsent.last_used_at.desc())
        )
        return [
            ConnectedApp(c.client, scope_set(c.scopes), c.granted_at, c.last_used_at)
            for c in consents
        ]

    def disconnect(self, account_id: int, client_id: str) -> bool:
        """Forget the account's consent to the client and revoke every refresh token the
        client holds for the account. False if the app was not connected."""
        consent = self.dbsession.scalars(
            select(OidcConsent)
            .join(OidcClient, OidcConsent.client_pk == OidcClient.id)
            .where(OidcConsent.account_id == account_id, OidcClient.client_id == client_id)
        ).first()
        if consent is None:
            return False
        client = consent.client
        sessions = select(LoginSession.id).where(LoginSession.account_id == account_id)
        revoke_refresh_tokens(
            self.context,
            OidcRefreshToken.client_pk == client.id,
            OidcRefreshToken.login_session_id.in_(sessions.scalar_subquery()),
        )
        self.dbsession.delete(consent)
        self.dbsession.flush()
        self.audit.record(events.OIDC_APP_DISCONNECTED, account_id, client_id=client.client_id)
        return True
