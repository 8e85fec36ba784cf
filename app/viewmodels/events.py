"""How an audit event reads on the activity pages, for the owner and for administrators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.models import AccountEvent
from app.services import audit as events
from app.services.user_agents import describe_user_agent

DESCRIPTIONS = {
    events.SIGN_IN: "Signed in",
    events.SIGN_IN_FAILED: "Sign-in refused",
    events.SIGN_IN_BLOCKED: "Sign-ins paused after too many wrong passwords",
    events.SIGN_OUT: "Signed out",
    events.REGISTERED: "Account created",
    events.REGISTRATION_ATTEMPT: "Someone tried to create a new account with this address",
    events.EMAIL_CONFIRMED: "Email address confirmed",
    events.EMAIL_CONFIRMATION_FAILED: "Email confirmation refused: wrong password",
    events.SIGN_IN_UNCONFIRMED: "Sign-in before the email address was confirmed",
    events.EMAIL_CHANGE_REQUESTED: "Asked to change the email address",
    events.EMAIL_CHANGE_FAILED: "Change of email address refused: wrong password",
    events.EMAIL_CHANGED: "Email address changed",
    events.SECOND_FACTOR_ADDED: "Two-factor sign-in turned on",
    events.SECOND_FACTOR_REMOVED: "Two-factor sign-in turned off",
    events.SECOND_FACTOR_FAILED: "Wrong two-factor code",
    events.RECOVERY_CODE_USED: "Signed in with a recovery code",
    events.RECOVERY_CODES_RENEWED: "New recovery codes made",
    events.REAUTHENTICATED: "Confirmed it was them before a sensitive change",
    events.PASSKEY_ADDED: "Passkey added",
    events.PASSKEY_REMOVED: "Passkey removed",
    events.PASSKEY_REFUSED: "Passkey refused",
    events.PASSKEY_CLONE_SUSPECTED: "Passkey refused: it may have been copied",
    events.NEW_DEVICE_SIGN_IN: "Signed in from a new browser (an email was sent)",
    events.NOT_ME_REPORTED: "“This wasn't me”: every device signed out, a reset link sent",
    events.PASSWORD_BREACHED: "The password was found in a list of leaked passwords",
    events.RESET_REQUESTED: "Asked for a password reset link",
    events.RESET_DONE: "Password changed with a reset link",
    events.INVITATION_ACCEPTED: "Password chosen with the invitation link",
    events.CODE_UNKNOWN: "A link that does not exist was opened",
    events.CODE_USED: "A link that was already used was opened again",
    events.CODE_EXPIRED: "An expired link was opened",
    events.PASSWORD_CHANGED: "Password changed",
    events.PASSWORD_CHANGE_FAILED: "Password change refused: wrong current password",
    events.SESSION_REVOKED: "A device was signed out",
    events.SESSIONS_REVOKED: "All other devices were signed out",
    events.ADMIN_CREATED_ACCOUNT: "Invited by an administrator",
    events.ADMIN_DISABLED: "Disabled by an administrator",
    events.ADMIN_ENABLED: "Enabled again by an administrator",
    events.ADMIN_SENT_RESET: "Reset link sent by an administrator",
    events.ADMIN_SENT_INVITATION: "Invitation sent again by an administrator",
    events.ADMINISTRATOR_APPOINTED: "Made an administrator (password cleared, devices signed out)",
}

# Why a sign-in was refused, as the owner reads it.
SIGN_IN_REASONS = {
    "wrong_password": "wrong password",
    "disabled": "the account is disabled",
    "password_changed": "the password changed meanwhile",
    "reauthentication": "wrong password when asked again",
    "no_account": "no such account",
}

# Events that are something refused or gone wrong, shown as such.
FAILURES = frozenset(
    {
        events.SIGN_IN_FAILED,
        events.SIGN_IN_BLOCKED,
        events.EMAIL_CONFIRMATION_FAILED,
        events.EMAIL_CHANGE_FAILED,
        events.SECOND_FACTOR_FAILED,
        events.PASSKEY_REFUSED,
        events.PASSKEY_CLONE_SUSPECTED,
        events.CODE_UNKNOWN,
        events.CODE_USED,
        events.CODE_EXPIRED,
        events.PASSWORD_CHANGE_FAILED,
        events.PASSWORD_BREACHED,
    }
)


@dataclass(frozen=True)
class EventRow:
    when: datetime
    description: str
    ip: str
    device: str
    actor_id: int | None
    # "failed" for a refusal or a warning, "ok" otherwise.
    outcome: str
    # The administrator's address, for an event an administrator caused.
    actor_email: str | None = None


def describe_event(kind: str) -> str:
    return DESCRIPTIONS.get(kind, kind.replace("_", " ").capitalize())


def event_row(event: AccountEvent, actors: dict[int, str] | None = None) -> EventRow:
    description = describe_event(event.kind)
    details = event.details or {}
    reason = SIGN_IN_REASONS.get(str(details.get("reason")))
    if event.kind == events.SIGN_IN_FAILED and reason:
        description += f": {reason}"
    repeats = details.get("repeats")
    if isinstance(repeats, int) and repeats > 0:
        # Repeated events within a few minutes are kept as one (see AuditLog).
        description += f" (and {repeats} more time{'s' if repeats != 1 else ''} soon after)"
    return EventRow(
        when=event.created_at,
        description=description,
        ip=event.ip or "unknown",
        device=describe_user_agent(event.user_agent),
        actor_id=event.actor_id,
        outcome="failed" if event.kind in FAILURES else "ok",
        actor_email=(actors or {}).get(event.actor_id) if event.actor_id else None,
    )
