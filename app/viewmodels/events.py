"""How an audit event reads on the activity pages, for the owner and for administrators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.models import AccountEvent
from app.services import audit as events
from app.services.user_agents import describe_user_agent

DESCRIPTIONS = {
    events.SIGN_IN: "Signed in",
    events.SIGN_IN_FAILED: "Failed sign-in (wrong password)",
    events.SIGN_IN_BLOCKED: "Sign-in blocked after too many failures",
    events.SIGN_OUT: "Signed out",
    events.REGISTERED: "Account registered",
    events.REGISTRATION_ATTEMPT: "Someone tried to register this address again",
    events.EMAIL_CONFIRMED: "Email address confirmed",
    events.EMAIL_CONFIRMATION_FAILED: "Email confirmation refused (wrong password)",
    events.SIGN_IN_UNCONFIRMED: "Sign-in before the email address was confirmed",
    events.EMAIL_CHANGE_REQUESTED: "Change of email address requested",
    events.EMAIL_CHANGE_FAILED: "Change of email address refused (wrong password)",
    events.EMAIL_CHANGED: "Email address changed",
    events.SECOND_FACTOR_ADDED: "Two-factor sign-in turned on",
    events.SECOND_FACTOR_REMOVED: "Two-factor sign-in turned off",
    events.SECOND_FACTOR_FAILED: "Wrong two-factor code",
    events.RECOVERY_CODE_USED: "Recovery code used",
    events.RECOVERY_CODES_RENEWED: "New recovery codes made",
    events.REAUTHENTICATED: "Password entered again before a sensitive change",
    events.PASSKEY_ADDED: "Passkey added",
    events.PASSKEY_REMOVED: "Passkey removed",
    events.PASSKEY_REFUSED: "Passkey refused",
    events.PASSKEY_CLONE_SUSPECTED: "Passkey refused: it may have been copied",
    events.NEW_DEVICE_SIGN_IN: "Signed in from a new browser (the owner was emailed)",
    events.NOT_ME_REPORTED: "“This wasn't me”: every device signed out, a reset link sent",
    events.PASSWORD_BREACHED: "The password was found in a known data breach",
    events.RESET_REQUESTED: "Password reset requested",
    events.RESET_DONE: "Password reset with an emailed link",
    events.INVITATION_ACCEPTED: "Password chosen with the invitation link",
    events.CODE_UNKNOWN: "Unknown reset link presented",
    events.CODE_USED: "Already used reset link presented",
    events.CODE_EXPIRED: "Expired reset link presented",
    events.PASSWORD_CHANGED: "Password changed",
    events.PASSWORD_CHANGE_FAILED: "Password change refused (wrong current password)",
    events.SESSION_REVOKED: "A device was signed out",
    events.SESSIONS_REVOKED: "All other devices were signed out",
    events.ADMIN_CREATED_ACCOUNT: "Account created by an administrator",
    events.ADMIN_DISABLED: "Account disabled by an administrator",
    events.ADMIN_ENABLED: "Account enabled by an administrator",
    events.ADMIN_SENT_RESET: "Reset link sent by an administrator",
    events.ADMIN_SENT_INVITATION: "Invitation sent by an administrator",
    events.ADMINISTRATOR_APPOINTED: "Made an administrator (password cleared, devices signed out)",
}


@dataclass(frozen=True)
class EventRow:
    when: datetime
    description: str
    ip: str
    device: str
    actor_id: int | None


def describe_event(kind: str) -> str:
    return DESCRIPTIONS.get(kind, kind.replace("_", " ").capitalize())


def event_row(event: AccountEvent) -> EventRow:
    description = describe_event(event.kind)
    repeats = (event.details or {}).get("repeats")
    if isinstance(repeats, int) and repeats > 0:
        # Repeated events within a few minutes are kept as one (see AuditLog).
        description += f" (and {repeats} more time{'s' if repeats != 1 else ''} soon after)"
    return EventRow(
        when=event.created_at,
        description=description,
        ip=event.ip or "unknown",
        device=describe_user_agent(event.user_agent),
        actor_id=event.actor_id,
    )
