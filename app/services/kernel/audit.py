"""The audit trail: what happened to an account, when, and from where."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import metrics
from app.models import AccountEvent
from app.services.kernel.clock import Clock
from app.services.kernel.pagination import Page, paginate

# Event kinds, in one place so that pages and tests agree on them.
SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
SIGN_IN_BLOCKED = "sign_in_rate_limited"
SIGN_OUT = "sign_out"
REGISTERED = "registered"
REGISTRATION_ATTEMPT = "registration_attempt"
EMAIL_CONFIRMED = "email_confirmed"
EMAIL_CONFIRMATION_FAILED = "email_confirmation_failed"
SIGN_IN_UNCONFIRMED = "sign_in_unconfirmed"
EMAIL_CHANGE_REQUESTED = "email_change_requested"
EMAIL_CHANGE_FAILED = "email_change_failed"
EMAIL_CHANGED = "email_changed"
EMAIL_CHANGE_UNDONE = "email_change_undone"
DATA_EXPORTED = "data_exported"
DELETION_REQUESTED = "deletion_requested"
ACCOUNT_RESTORED = "account_restored"
# Recorded with no account (it is gone), and no origin unless an administrator erased it.
ACCOUNT_ERASED = "account_erased"
SIGN_IN_CODE_SENT = "sign_in_code_sent"
SIGN_IN_CODE_FAILED = "sign_in_code_failed"
DISPLAY_NAME_CHANGED = "display_name_changed"
SECOND_FACTOR_ADDED = "second_factor_added"
SECOND_FACTOR_REMOVED = "second_factor_removed"
SECOND_FACTOR_FAILED = "second_factor_failed"
RECOVERY_CODE_USED = "recovery_code_used"
RECOVERY_CODES_RENEWED = "recovery_codes_renewed"
REAUTHENTICATED = "reauthenticated"
PASSKEY_ADDED = "passkey_added"
PASSKEY_REMOVED = "passkey_removed"
PASSKEY_REFUSED = "passkey_refused"
PASSKEY_CLONE_SUSPECTED = "passkey_clone_suspected"
NEW_DEVICE_SIGN_IN = "new_device_sign_in"
NOT_ME_REPORTED = "not_me_reported"
PASSWORD_BREACHED = "password_breached"  # noqa: S105 - an event name
RESET_REQUESTED = "reset_requested"
RESET_DONE = "reset_done"
INVITATION_ACCEPTED = "invitation_accepted"
CODE_UNKNOWN = "code_unknown"
CODE_USED = "code_used"
CODE_EXPIRED = "code_expired"
PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event name
PASSWORD_CHANGE_FAILED = "password_change_failed"  # noqa: S105 - an event name
SESSION_REVOKED = "session_revoked"
SESSIONS_REVOKED = "other_sessions_revoked"
ADMIN_CREATED_ACCOUNT = "admin_created_account"
ADMIN_DISABLED = "admin_disabled_account"
ADMIN_ENABLED = "admin_enabled_account"
ADMIN_SENT_RESET = "admin_sent_reset"
ADMIN_SENT_INVITATION = "admin_sent_invitation"
ADMINISTRATOR_APPOINTED = "administrator_appointed"
ADMIN_ROLE_CHANGED = "admin_role_changed"
# The identity provider: an administrator's changes to the registered applications
# (no owner account: the actor is the administrator), and what an owner allowed.
OIDC_CLIENT_ADDED = "oidc_client_added"
OIDC_CLIENT_REMOVED = "oidc_client_removed"
OIDC_CLIENT_SECRET_ROTATED = "oidc_client_secret_rotated"  # noqa: S105 - an event name
OIDC_CLIENT_CHANGED = "oidc_client_changed"
OIDC_CONSENT_GIVEN = "oidc_consent_given"
OIDC_APP_DISCONNECTED = "oidc_app_disconnected"
OIDC_REFRESH_TOKEN_REUSED = "oidc_refresh_token_reused"  # noqa: S105 - an event name
OIDC_CODE_REUSED = "oidc_code_reused"
UPSTREAM_LINKED = "upstream_linked"
UPSTREAM_UNLINKED = "upstream_unlinked"

MAX_USER_AGENT_LENGTH = 512

_SIGN_IN_FAILURES = frozenset(
    {"wrong_password", "no_account", "disabled", "deletion_pending", "password_changed"}
)
_CODE_REFUSALS = {CODE_UNKNOWN: "unknown", CODE_USED: "used", CODE_EXPIRED: "expired"}
_SECOND_FACTOR_RESULTS = {
    SECOND_FACTOR_FAILED: ("code", "failed"),
    PASSKEY_REFUSED: ("passkey", "refused"),
    PASSKEY_CLONE_SUSPECTED: ("passkey", "clone_suspected"),
}


def count_event(kind: str, details: Mapping[str, Any]) -> None:
    """Move the metric (app/metrics.py) that counts this kind of event, if one does.

    Counted when recorded, in every process (web or script): an attempt whose
    transaction is later rolled back or retried still counts, as the attempt it was."""
    if kind == SIGN_IN:
        metrics.SIGN_INS.labels("success", "").inc()
        method = str(details.get("method", ""))
        if method.startswith("password+"):
            metrics.SECOND_FACTORS.labels(method.removeprefix("password+"), "passed").inc()
    elif kind == SIGN_IN_FAILED:
        # A wrong password when confirming a sensitive change is no sign-in.
        reason = details.get("reason")
        if reason in _SIGN_IN_FAILURES:
            metrics.SIGN_INS.labels("failed", reason).inc()
    elif kind == SIGN_IN_BLOCKED:
        metrics.SIGN_INS.labels("rate_limited", "").inc()
    elif kind == SIGN_IN_UNCONFIRMED:
        metrics.SIGN_INS.labels("unconfirmed", "").inc()
    elif kind in _SECOND_FACTOR_RESULTS:
        metrics.SECOND_FACTORS.labels(*_SECOND_FACTOR_RESULTS[kind]).inc()
    elif kind == RESET_REQUESTED:
        metrics.RESETS_REQUESTED.inc()
    elif kind == RESET_DONE:
        metrics.RESETS_DONE.inc()
    elif kind in _CODE_REFUSALS:
        metrics.CODES_REFUSED.labels(_CODE_REFUSALS[kind]).inc()


def clean_text(value: str | None, limit: int) -> str | None:
    """Printable text only, cut to the column's size: header values can carry control
    characters (NUL among them, which PostgreSQL refuses in text)."""
    if not value:
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable())[:limit]
    return cleaned or None


@dataclass(frozen=True)
class RequestOrigin:
    """Where a request came from, as recorded with each event."""

    ip: str | None = None
    user_agent: str | None = None
    # The browser's device cookie (see known_devices.py); never recorded or shown.
    device_token: str | None = field(default=None, repr=False)
    # The request came through the JSON API (its emailed links may open the shop's
    # own pages: api.frontend_url).
    through_api: bool = False


class AuditLog:
    def __init__(self, dbsession: Session, clock: Clock, origin: RequestOrigin | None = None):
        self.dbsession = dbsession
        self.clock = clock
        self.origin = origin or RequestOrigin()

    def record(
        self,
        kind: str,
        account_id: int | None = None,
        actor_id: int | None = None,
        **details: Any,
    ) -> AccountEvent:
        """Add one event, and count it (count_event). Details must never hold a
        password, code or token."""
        count_event(kind, details)
        event = AccountEvent(
            account_id=account_id,
            actor_id=actor_id,
            kind=kind,
            ip=self.origin.ip,
            user_agent=clean_text(self.origin.user_agent, MAX_USER_AGENT_LENGTH),
            created_at=self.clock.now(),
            details=details,
        )
        self.dbsession.add(event)
        self.dbsession.flush()
        return event

    def record_once_per_window(
        self,
        kind: str,
        account_id: int | None,
        window: timedelta,
        same_origin: bool = False,
        **details: Any,
    ) -> AccountEvent:
        """Add an event, unless the same thing (kind and account, or kind and address
        for no account; and the same address and browser too with `same_origin`) was
        recorded within `window`: then count it on that event. A flood of blocked
        attempts is one line of the owner's activity, not hundreds."""
        since = self.clock.now() - window
        query = select(AccountEvent).where(
            AccountEvent.kind == kind,
            AccountEvent.account_id == account_id
            if account_id is not None
            else AccountEvent.account_id.is_(None),
            AccountEvent.created_at >= since,
        )
        if account_id is None or same_origin:
            query = query.where(AccountEvent.ip == self.origin.ip)
        if same_origin:
            user_agent = clean_text(self.origin.user_agent, MAX_USER_AGENT_LENGTH)
            query = query.where(AccountEvent.user_agent == user_agent)
        earlier = self.dbsession.scalars(
            query.order_by(AccountEvent.created_at.desc()).limit(1)
        ).first()
        if earlier is None:
            return self.record(kind, account_id, **details)
        count_event(kind, details)
        # A new dict, so that the JSON column is seen as changed.
        earlier.details = {**earlier.details, "repeats": earlier.details.get("repeats", 0) + 1}
        self.dbsession.flush()
        return earlier

    def for_account(self, account_id: int, page: int = 1, per_page: int = 25) -> Page[AccountEvent]:
        """The account's events, newest first, one page at a time."""
        query = (
            select(AccountEvent)
            .where(AccountEvent.account_id == account_id)
            .order_by(AccountEvent.created_at.desc(), AccountEvent.id.desc())
        )
        return paginate(self.dbsession, query, page, per_page)
