"""Server-side sign-in: one row per signed-in device, found by the hash of a cookie token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from app.models import Account, LoginSession
from app.models.login_sessions import BROWSER_SESSION
from app.services.kernel.audit import clean_text
from app.services.kernel.clock import Clock
from app.services.kernel.codes import digest, new_code

# last_seen_at is refreshed at most this often, so that reading pages does not turn
# every request into a database write; with a short idle limit, at most every tenth of it,
# so that an active user is never taken for an idle one.
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
MAX_USER_AGENT_LENGTH = 512


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(hours=24)
    absolute: timedelta = timedelta(days=30)
    # A sign-in beyond this many live sessions ends the oldest ones.
    max_per_account: int = 20
    # Sensitive changes need a sign-in (or re-authentication) at most this long ago.
    reauthenticate_after: timedelta = timedelta(minutes=15)


class LoginSessionService:
    def __init__(
        self,
        dbsession: Session,
        clock: Clock,
        policy: SessionPolicy | None = None,
        on_ended: Callable[[list[int]], None] | None = None,
    ) -> None:
        self.dbsession = dbsession
        self.clock = clock
        self.policy = policy or SessionPolicy()
        # Told the ids of the sessions each revocation ended: the identity provider
        # ends their tokens and tells the applications that hold them.
        self.on_ended = on_ended
        self._last_seen_resolution = min(LAST_SEEN_RESOLUTION, self.policy.idle / 10)

    def start(
        self,
        account: Account,
        ip: str | None,
        user_agent: str | None,
        method: str = "password",
        device_id: int | None = None,
        kind: str = BROWSER_SESSION,
    ) -> tuple[str, LoginSession]:
        """A new session with a fresh random token; the token goes in the cookie only
        (or, for an application's session of kind `app`, to the application alone).
        `method` says how the person signed in ("password", "password+totp", ...), and
        device_id which known browser it was."""
        token = new_code()
        now = self.clock.now()
        login_session = LoginSession(
            token_hash=digest(token),
            account_id=account.id,
            created_at=now,
            last_seen_at=now,
            authenticated_at=now,
            sign_in_method=method,
            known_device_id=device_id,
            kind=kind,
            ip=ip,
            user_agent=clean_text(user_agent, MAX_USER_AGENT_LENGTH),
        )
        self.dbsession.add(login_session)
        self.dbsession.flush()
        self._end_the_oldest_beyond_the_maximum(account.id)
        return token, login_session

    def _end_the_oldest_beyond_the_maximum(self, account_id: int) -> None:
        """An account keeps at most policy.max_per_account live sessions: the oldest are
        ended, so that repeated sign-ins (a script, a leaked password being tried on a
        loop) cannot pile up sessions without end."""
        surplus = (
            select(LoginSession.id)
            .where(LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None))
            .order_by(LoginSession.created_at.desc(), LoginSession.id.desc())
            .offset(self.policy.max_per_account)
        )
        self._ended(
            update(LoginSession)
            .where(LoginSession.id.in_(surplus.scalar_subquery()))
            .values(revoked_at=self.clock.now())
            .execution_options(synchronize_session=False)
        )

    def _ended(self, statement: Any) -> list[int]:
        """Run a revoking UPDATE; the ids of the sessions it ended, which on_ended hears."""
        ended = list(self.dbsession.scalars(statement.returning(LoginSession.id)))
        if ended and self.on_ended is not None:
            self.on_ended(ended)
        return ended

    def find_active(self, token: str, kind: str = BROWSER_SESSION) -> LoginSession | None:
        """The live session for a token carried the way `kind` says (a cookie's token
        never opens an application's session, nor the other way round): not revoked,
        not idle or too old, and its account neither disabled nor being deleted.
        Anything else is anonymous."""
        if not token or len(token) > 100:
            return None
        login_session = self.dbsession.scalars(
            select(LoginSession).where(LoginSession.token_hash == digest(token))
        ).first()
        if login_session is None or login_session.revoked_at is not None:
            return None
        if login_session.kind != kind:
            return None
        now = self.clock.now()
        if self.is_expired(login_session, now) or not login_session.account.may_sign_in:
            return None
        if now - login_session.last_seen_at >= self._last_seen_resolution:
            login_session.last_seen_at = now
        return login_session

    def why_ended(self, token: str) -> str | None:
        """Why the session of a token that opens nothing ended, as the sign-in page tells
        the person it sent back there: "revoked" (signed out from elsewhere, or by a
        password change or a reset), "disabled", "deleting" or "expired"; None for a token
        that never opened a session (or one whose row is gone)."""
        if not token or len(token) > 100:
            return None
        ended = self.dbsession.scalars(
            select(LoginSession).where(LoginSession.token_hash == digest(token))
        ).first()
        if ended is None:
            return None
        if ended.account.is_disabled:
            return "disabled"
        if ended.account.deletion_requested_at is not None:
            return "deleting"
        if ended.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired(ended, self.clock.now()) else None

    def is_recently_authenticated(self, login_session: LoginSession) -> bool:
        """Whether the person proved who they are recently enough for a sensitive change."""
        age = self.clock.now() - login_session.authenticated_at
        return age <= self.policy.reauthenticate_after

    def mark_authenticated(self, login_session: LoginSession, method: str | None = None) -> None:
        """The person has just proved who they are again (re-authentication), with these
        factors: from now on the session stands for them (an ID token's acr and amr)."""
        login_session.authenticated_at = self.clock.now()
        if method is not None:
            login_session.sign_in_method = method
        self.dbsession.flush()

    def is_expired(self, login_session: LoginSession, now: datetime) -> bool:
        return (
            now - login_session.last_seen_at > self.policy.idle
            or now - login_session.created_at > self.policy.absolute
        )

    def revoke(self, login_session: LoginSession) -> None:
        if login_session.revoked_at is None:
            login_session.revoked_at = self.clock.now()
            self.dbsession.flush()
            if self.on_ended is not None:
                self.on_ended([login_session.id])

    def revoke_by_id(self, account_id: int, session_id: int) -> bool:
        """Revoke one of the account's own sessions; False if there is no such live one."""
        ended = self._ended(
            update(LoginSession)
            .where(
                LoginSession.id == session_id,
                LoginSession.account_id == account_id,
                LoginSession.revoked_at.is_(None),
            )
            .values(revoked_at=self.clock.now())
            .execution_options(synchronize_session=False)
        )
        return len(ended) == 1

    def revoke_all(self, account_id: int, except_id: int | None = None) -> int:
        """End every live session of the account (but one, if given)."""
        query = update(LoginSession).where(
            LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None)
        )
        if except_id is not None:
            query = query.where(LoginSession.id != except_id)
        # SQLAlchemy sets revoked_at on the sessions already loaded here as well, rather
        # than every object of the unit of work being reloaded afterwards.
        return len(self._ended(query.values(revoked_at=self.clock.now())))

    def find_live(self, account_id: int, session_id: int) -> LoginSession | None:
        """One of the account's sessions, if it is still live."""
        found = self.dbsession.get(LoginSession, session_id)
        if found is None or found.account_id != account_id or found.revoked_at is not None:
            return None
        return None if self.is_expired(found, self.clock.now()) else found

    def list_active(self, account_id: int) -> list[LoginSession]:
        now = self.clock.now()
        sessions = self.dbsession.scalars(
            select(LoginSession)
            .where(LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None))
            .options(selectinload(LoginSession.known_device))
            .order_by(LoginSession.last_seen_at.desc())
        ).all()
        return [s for s in sessions if not self.is_expired(s, now)]
