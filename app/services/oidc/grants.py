"""What the provider grants, kept in the database: authorization codes, refresh tokens,
consents, and the back-channel logouts owed when a session ends (docs/security.md 61,
63, 66).

Every code and token belongs to a login session; it is good only while that session is
live (not signed out, revoked, idle or too old, its account not disabled)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from app.models import (
    Account,
    LoginSession,
    OidcClient,
    OidcCode,
    OidcRefreshToken,
)
from app.services.kernel import audit as events
from app.services.kernel.codes import digest, new_code
from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.statements import rows_changed
from app.services.sessions.login_sessions import LoginSessionService
from app.services.signin.stages import SignInMethod

CODE_LIFETIME = timedelta(seconds=60)
ACCESS_TOKEN_LIFETIME = timedelta(minutes=15)
ID_TOKEN_LIFETIME = timedelta(minutes=60)
REFRESH_TOKEN_LIFETIME = timedelta(days=30)
MAX_SCOPE_LENGTH = 500
MAX_NONCE_LENGTH = 255


def scope_set(scope: str | None) -> frozenset[str]:
    return frozenset((scope or "").split())


def scope_text(scopes: frozenset[str] | set[str]) -> str:
    return " ".join(sorted(scopes))


@dataclass(frozen=True)
class Subject:
    """Who a code or token speaks for: an account, through one login session."""

    account: Account
    login_session: LoginSession

    def get_user_id(self) -> str:
        return self.account.public_id

    @property
    def method(self) -> SignInMethod:
        return SignInMethod.parse(self.login_session.sign_in_method)

    @property
    def auth_time(self) -> int:
        return int(self.login_session.authenticated_at.timestamp())

    @property
    def sid(self) -> str:
        return self.login_session.sid


class OidcGrants(ContextService):
    def __init__(self, context: ServiceContext, login_sessions: LoginSessionService) -> None:
        super().__init__(context)
        self.login_sessions = login_sessions

    # -- login sessions ---------------------------------------------------------------

    def live_subject(
        self, login_session: LoginSession | None, idle_counts: bool = True
    ) -> Subject | None:
        """The subject of a login session that is still live, else None. The tokens an
        application holds (idle_counts=False) live as long as the session is not ended
        (signed out, revoked, its account disabled) and not older than the sessions'
        absolute limit: they do not keep the browser's session from idling out, nor die
        with it when it does."""
        if login_session is None or login_session.revoked_at is not None:
            return None
        account = login_session.account
        now = self.clock.now()
        if idle_counts:
            expired = self.login_sessions.is_expired(login_session, now)
        else:
            expired = now - login_session.created_at > self.login_sessions.policy.absolute
        if not account.may_sign_in or expired:
            return None
        return Subject(account, login_session)

    def session_live_by_sid(self, sid: object) -> Subject | None:
        """The live subject of the session a token names by its `sid`, else None."""
        if not isinstance(sid, str) or not sid or len(sid) > 32:
            return None
        found = self.dbsession.scalars(select(LoginSession).where(LoginSession.sid == sid)).first()
        return self.live_subject(found, idle_counts=False)

    # -- authorization codes ----------------------------------------------------------

    def issue_code(
        self,
        client: OidcClient,
        subject: Subject,
        redirect_uri: str,
        scope: str,
        nonce: str | None,
        code_challenge: str,
    ) -> str:
        code = new_code()
        now = self.clock.now()
        self.dbsession.add(
            OidcCode(
                code_hash=digest(code),
                client_pk=client.id,
                login_session_id=subject.login_session.id,
                redirect_uri=redirect_uri,
                scope=scope,
                nonce=nonce,
                code_challenge=code_challenge,
                created_at=now,
                expires_at=now + CODE_LIFETIME,
            )
        )
        self.dbsession.flush()
        return code

    def find_code(self, code: object, client: OidcClient) -> OidcCode | None:
        """The code if it is this client's, unused and unexpired (not spent yet: the
        redirect URI and PKCE verifier are checked first); else None. A code presented
        again after it was spent revokes the refresh tokens issued from it (RFC 6749
        4.1.2)."""
        if not isinstance(code, str) or not code or len(code) > 100:
            return None
        found = self.dbsession.scalars(
            select(OidcCode).where(OidcCode.code_hash == digest(code))
        ).first()
        if found is None or found.client_pk != client.id:
            return None
        if found.used_at is not None:
            self._replayed(found, client)
            return None
        return found if found.expires_at > self.clock.now() else None

    def spend_code(self, row: OidcCode, client: OidcClient) -> bool:
        """Spend the code by one conditional UPDATE: True for the one request that does;
        another that raced it is a replay."""
        now = self.clock.now()
        spent = rows_changed(
            self.dbsession,
            update(OidcCode)
            .where(
                OidcCode.id == row.id,
                OidcCode.used_at.is_(None),
                OidcCode.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False),
        )
        if spent != 1:
            self.dbsession.refresh(row)
            if row.used_at is not None:
                self._replayed(row, client)
        return spent == 1

    def _replayed(self, row: OidcCode, client: OidcClient) -> None:
        self._revoke(OidcRefreshToken.code_id == row.id)
        self.audit.record(
            events.OIDC_CODE_REUSED, row.login_session.account_id, client_id=client.client_id
        )

    # -- refresh tokens ---------------------------------------------------------------

    def issue_refresh_token(
        self,
        client: OidcClient,
        subject: Subject,
        scope: str,
        parent: OidcRefreshToken | None = None,
        code: OidcCode | None = None,
    ) -> str:
        token = new_code()
        now = self.clock.now()
        self.dbsession.add(
            OidcRefreshToken(
                token_hash=digest(token),
                family=parent.family if parent else secrets.token_hex(16),
                parent_id=parent.id if parent else None,
                code_id=parent.code_id if parent else (code.id if code else None),
                client_pk=client.id,
                login_session_id=subject.login_session.id,
                scope=scope,
                created_at=now,
                expires_at=now + REFRESH_TOKEN_LIFETIME,
            )
        )
        self.dbsession.flush()
        return token

    def find_refresh_token(self, token: object) -> OidcRefreshToken | None:
        if not isinstance(token, str) or not token or len(token) > 100:
            return None
        return self.dbsession.scalars(
            select(OidcRefreshToken).where(OidcRefreshToken.token_hash == digest(token))
        ).first()

    def is_usable(self, row: OidcRefreshToken) -> bool:
        return (
            row.revoked_at is None
            and row.used_at is None
            and row.expires_at > self.clock.now()
            and self.live_subject(row.login_session, idle_counts=False) is not None
        )

    def spend_refresh_token(self, row: OidcRefreshToken) -> Subject | None:
        """Spend the token by one conditional UPDATE and give its subject; None when it
        was used before (then its whole family is revoked: a copy is in other hands),
        revoked, expired, or its session has ended."""
        now = self.clock.now()
        spent = rows_changed(
            self.dbsession,
            update(OidcRefreshToken)
            .where(
                OidcRefreshToken.id == row.id,
                OidcRefreshToken.used_at.is_(None),
                OidcRefreshToken.revoked_at.is_(None),
                OidcRefreshToken.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False),
        )
        self.dbsession.refresh(row)
        if spent != 1:
            if row.used_at is not None:
                self.revoke_family(row.family)
                self.audit.record(
                    events.OIDC_REFRESH_TOKEN_REUSED,
                    row.login_session.account_id,
                    client_id=row.client.client_id,
                )
            return None
        return self.live_subject(row.login_session, idle_counts=False)

    def revoke_family(self, family: str) -> None:
        self._revoke(OidcRefreshToken.family == family)

    def _revoke(self, *where: Any) -> None:
        revoke_refresh_tokens(self.context, *where)


def revoke_refresh_tokens(context: ServiceContext, *where: Any) -> None:
    """Revoke the live refresh tokens that match `where`."""
    rows_changed(
        context.dbsession,
        update(OidcRefreshToken)
        .where(*where, OidcRefreshToken.revoked_at.is_(None))
        .values(revoked_at=context.clock.now())
        .execution_options(synchronize_session=False),
    )
