"""Everything held about an account, for its owner (docs/security.md 72): one JSON
document of the profile, the sessions and browsers with their addresses, the events,
the passkeys, the second factors, the connected applications and the other providers.
Never a hash, a token, a secret or a code; rate limited; recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.models import (
    Account,
    AccountEvent,
    KnownDevice,
    LoginSession,
    OidcConsent,
    RecoveryCode,
    UpstreamIdentity,
    WebAuthnCredential,
)
from app.services.kernel import audit as events
from app.services.kernel.context import ContextService
from app.settings.limits import EXPORT_PER_ACCOUNT

# The document's shape; a reader can tell later versions apart.
EXPORT_VERSION = 1


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class AccountExport(ContextService):
    def document(self, account: Account) -> dict[str, Any]:
        """The account's data as one document. Raises RateLimited."""
        self.rate_limiter.hit(EXPORT_PER_ACCOUNT, str(account.id))
        self.audit.record(events.DATA_EXPORTED, account.id)
        self.dbsession.flush()
        return {
            "version": EXPORT_VERSION,
            "exported_at": _when(self.clock.now()),
            "account": self._profile(account),
            "second_factors": self._second_factors(account),
            "passkeys": self._passkeys(account),
            "sessions": self._sessions(account),
            "browsers": self._browsers(account),
            "connected_applications": self._applications(account),
            "other_providers": self._other_providers(account),
            "events": self._events(account),
        }

    def _rows(self, statement: Any) -> list[Any]:
        return list(self.dbsession.scalars(statement))

    def _profile(self, account: Account) -> dict[str, Any]:
        return {
            "email": account.email,
            "subject": account.public_id,
            "created_at": _when(account.created_at),
            "email_confirmed_at": _when(account.email_verified_at),
            "has_password": account.password_hash is not None,
            "password_changed_at": _when(account.password_changed_at),
            "is_administrator": account.is_admin,
            "is_disabled": account.is_disabled,
            "language": account.locale,
            "last_sign_in_at": _when(account.last_login_at),
            "last_sign_in_ip": account.last_login_ip,
            "sign_ins": account.login_count,
        }

    def _second_factors(self, account: Account) -> dict[str, Any]:
        left = self.dbsession.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.account_id == account.id, RecoveryCode.used_at.is_(None))
        )
        return {
            "authenticator_app": account.totp_enabled_at is not None,
            "authenticator_app_since": _when(account.totp_enabled_at),
            "recovery_codes_left": left or 0,
        }

    def _passkeys(self, account: Account) -> list[dict[str, Any]]:
        return [
            {
                "name": passkey.name,
                "added_at": _when(passkey.created_at),
                "last_used_at": _when(passkey.last_used_at),
            }
            for passkey in self._rows(
                select(WebAuthnCredential)
                .where(WebAuthnCredential.account_id == account.id)
                .order_by(WebAuthnCredential.id)
            )
        ]

    def _sessions(self, account: Account) -> list[dict[str, Any]]:
        return [
            {
                "started_at": _when(session.created_at),
                "last_seen_at": _when(session.last_seen_at),
                "ended_at": _when(session.revoked_at),
                "ip": session.ip,
                "user_agent": session.user_agent,
                "kind": session.kind,
                "sign_in_method": session.sign_in_method,
            }
            for session in self._rows(
                select(LoginSession)
                .where(LoginSession.account_id == account.id)
                .order_by(LoginSession.id)
            )
        ]

    def _browsers(self, account: Account) -> list[dict[str, Any]]:
        return [
            {
                "first_seen_at": _when(device.first_seen_at),
                "last_seen_at": _when(device.last_seen_at),
            }
            for device in self._rows(
                select(KnownDevice)
                .where(KnownDevice.account_id == account.id)
                .order_by(KnownDevice.id)
            )
        ]

    def _applications(self, account: Account) -> list[dict[str, Any]]:
        return [
            {
                "name": consent.client.name,
                "scopes": consent.scopes.split(),
                "allowed_at": _when(consent.granted_at),
                "last_used_at": _when(consent.last_used_at),
            }
            for consent in self._rows(
                select(OidcConsent)
                .where(OidcConsent.account_id == account.id)
                .order_by(OidcConsent.id)
            )
        ]

    def _other_providers(self, account: Account) -> list[dict[str, Any]]:
        return [
            {
                "provider": link.provider,
                "email": link.email,
                "linked_at": _when(link.linked_at),
                "last_used_at": _when(link.last_used_at),
            }
            for link in self._rows(
                select(UpstreamIdentity)
                .where(UpstreamIdentity.account_id == account.id)
                .order_by(UpstreamIdentity.id)
            )
        ]

    def _events(self, account: Account) -> list[dict[str, Any]]:
        return [
            {
                "kind": event.kind,
                "at": _when(event.created_at),
                "ip": event.ip,
                "user_agent": event.user_agent,
                "by_an_administrator": event.actor_id is not None,
                "details": event.details,
            }
            for event in self._rows(
                select(AccountEvent)
                .where(AccountEvent.account_id == account.id)
                .order_by(AccountEvent.id)
            )
        ]
