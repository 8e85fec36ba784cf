"""When login sessions end: their tokens end, and each application that holds some is
owed a back-channel logout (docs/security.md 63)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from app.models import (
    LoginSession,
    OidcClient,
    OidcCode,
    OidcLogoutDelivery,
    OidcRefreshToken,
)
from app.services.kernel.context import ContextService
from app.services.kernel.statements import insert_unless_present, rows_changed
from app.services.oidc.grants import revoke_refresh_tokens


class EndedSessions(ContextService):
    def sessions_ended(self, session_ids: list[int]) -> int:
        """Sessions have ended: revoke their refresh tokens, and owe each client that
        holds tokens of one (and has a back-channel logout URI) a logout token. The
        number of logouts queued."""
        if not session_ids:
            return 0
        revoke_refresh_tokens(self.context, OidcRefreshToken.login_session_id.in_(session_ids))
        holders = (
            select(OidcCode.client_pk, OidcCode.login_session_id)
            .where(OidcCode.login_session_id.in_(session_ids), OidcCode.used_at.is_not(None))
            .union(
                select(OidcRefreshToken.client_pk, OidcRefreshToken.login_session_id).where(
                    OidcRefreshToken.login_session_id.in_(session_ids)
                )
            )
        )
        pairs = set(self.dbsession.execute(holders).all())
        if not pairs:
            return 0
        clients = {
            client.id: client
            for client in self.dbsession.scalars(
                select(OidcClient).where(
                    OidcClient.id.in_({pk for pk, _ in pairs}),
                    OidcClient.backchannel_logout_uri.is_not(None),
                )
            )
        }
        sessions = {
            s.id: s
            for s in self.dbsession.scalars(
                select(LoginSession).where(LoginSession.id.in_({sid for _, sid in pairs}))
            )
        }
        now = self.clock.now()
        queued = 0
        for client_pk, session_id in sorted(pairs):
            if client_pk not in clients or session_id not in sessions:
                continue
            login_session = sessions[session_id]
            # Already owed (None): a session ends once, and each client is told once.
            added = insert_unless_present(
                self.dbsession,
                OidcLogoutDelivery,
                {
                    "client_pk": client_pk,
                    "login_session_id": session_id,
                    "subject": login_session.account.public_id,
                    "sid": login_session.sid,
                    "created_at": now,
                    "next_attempt_at": now,
                    "attempts": 0,
                },
                unique=[OidcLogoutDelivery.client_pk, OidcLogoutDelivery.login_session_id],
            )
            queued += added is not None
        return queued

    def prune(self, before: datetime) -> int:
        """Delete codes that expired before `before`, and refresh tokens expired or
        revoked before it."""
        removed = rows_changed(self.dbsession, delete(OidcCode).where(OidcCode.expires_at < before))
        removed += rows_changed(
            self.dbsession,
            delete(OidcRefreshToken).where(
                (OidcRefreshToken.expires_at < before) | (OidcRefreshToken.revoked_at < before)
            ),
        )
        return removed
