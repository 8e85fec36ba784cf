"""How an audit event reads on the activity pages, for the owner and for administrators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.i18n import Formats
from app.models import AccountEvent
from app.services.kernel import audit as events
from app.services.sessions.user_agents import describe_user_agent
from app.translation import _

DESCRIPTIONS = {
    events.SIGN_IN: _("Signed in"),
    events.SIGN_IN_FAILED: _("Sign-in refused"),
    events.SIGN_IN_BLOCKED: _("Sign-ins paused after too many wrong passwords"),
    events.SIGN_OUT: _("Signed out"),
    events.REGISTERED: _("Account created"),
    events.REGISTRATION_ATTEMPT: _("Someone tried to create a new account with this address"),
    events.EMAIL_CONFIRMED: _("Email address confirmed"),
    events.EMAIL_CONFIRMATION_FAILED: _("Email confirmation refused: wrong password"),
    events.SIGN_IN_UNCONFIRMED: _("Sign-in before the email address was confirmed"),
    events.EMAIL_CHANGE_REQUESTED: _("Asked to change the email address"),
    events.EMAIL_CHANGE_FAILED: _("Change of email address refused: wrong password"),
    events.EMAIL_CHANGED: _("Email address changed"),
    events.DATA_EXPORTED: _("Everything held about the account was downloaded"),
    events.DELETION_REQUESTED: _("Deletion of the account asked for"),
    events.ACCOUNT_RESTORED: _("Account restored before its deletion"),
    events.ACCOUNT_ERASED: _("An account was erased"),
    events.SIGN_IN_CODE_SENT: _("Sign-in code emailed"),
    events.SIGN_IN_CODE_FAILED: _("Wrong sign-in code"),
    events.DISPLAY_NAME_CHANGED: _("Name changed"),
    events.OIDC_CONSENT_GIVEN: _("An application was allowed access"),
    events.EMAIL_CHANGE_UNDONE: _(
        "Change of address undone from the old address: every device signed out, a reset link sent"
    ),
    events.SECOND_FACTOR_ADDED: _("Two-factor sign-in turned on"),
    events.SECOND_FACTOR_REMOVED: _("Two-factor sign-in turned off"),
    events.SECOND_FACTOR_FAILED: _("Wrong two-factor code"),
    events.RECOVERY_CODE_USED: _("Signed in with a recovery code"),
    events.RECOVERY_CODES_RENEWED: _("New recovery codes made"),
    events.REAUTHENTICATED: _("Confirmed it was them before a sensitive change"),
    events.PASSKEY_ADDED: _("Passkey added"),
    events.PASSKEY_REMOVED: _("Passkey removed"),
    events.UPSTREAM_LINKED: _("Sign-in with another provider linked"),
    events.UPSTREAM_UNLINKED: _("Sign-in with another provider unlinked"),
    events.PASSKEY_REFUSED: _("Passkey refused"),
    events.PASSKEY_CLONE_SUSPECTED: _("Passkey refused: it may have been copied"),
    events.NEW_DEVICE_SIGN_IN: _("Signed in from a new browser (an email was sent)"),
    events.NOT_ME_REPORTED: _("“This wasn't me”: every device signed out, a reset link sent"),
    events.PASSWORD_BREACHED: _("The password was found in a list of leaked passwords"),
    events.RESET_REQUESTED: _("Asked for a password reset link"),
    events.RESET_DONE: _("Password changed with a reset link"),
    events.INVITATION_ACCEPTED: _("Password chosen with the invitation link"),
    events.CODE_UNKNOWN: _("A link that does not exist was opened"),
    events.CODE_USED: _("A link that was already used was opened again"),
    events.CODE_EXPIRED: _("An expired link was opened"),
    events.PASSWORD_CHANGED: _("Password changed"),
    events.PASSWORD_CHANGE_FAILED: _("Password change refused: wrong current password"),
    events.SESSION_REVOKED: _("A device was signed out"),
    events.SESSIONS_REVOKED: _("All other devices were signed out"),
    events.ADMIN_CREATED_ACCOUNT: _("Invited by an administrator"),
    events.ADMIN_DISABLED: _("Disabled by an administrator"),
    events.ADMIN_ENABLED: _("Enabled again by an administrator"),
    events.ADMIN_SENT_RESET: _("Reset link sent by an administrator"),
    events.ADMIN_SENT_INVITATION: _("Invitation sent again by an administrator"),
    events.ADMIN_ROLE_CHANGED: _("Role changed by an administrator"),
    events.ADMINISTRATOR_APPOINTED: _(
        "Made an administrator (password cleared, devices signed out)"
    ),
}

# A refused sign-in, by why, as the owner reads it.
SIGN_IN_REFUSALS = {
    "wrong_password": _("Sign-in refused: wrong password"),
    "disabled": _("Sign-in refused: the account is disabled"),
    "password_changed": _("Sign-in refused: the password changed meanwhile"),
    "reauthentication": _("Sign-in refused: wrong password when asked again"),
    "no_account": _("Sign-in refused: no such account"),
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
    # An administrator caused it whose account has since been erased.
    actor_erased: bool = False


def describe_event(kind: str) -> str:
    return DESCRIPTIONS.get(kind, kind.replace("_", " ").capitalize())


def event_row(
    event: AccountEvent, formats: Formats, actors: dict[int, str] | None = None
) -> EventRow:
    details = event.details or {}
    description = describe_event(event.kind)
    if event.kind == events.SIGN_IN_FAILED:
        description = SIGN_IN_REFUSALS.get(str(details.get("reason")), description)
    text = formats.translate(description)
    repeats = details.get("repeats")
    if isinstance(repeats, int) and repeats > 0:
        # Repeated events within a few minutes are kept as one (see AuditLog).
        text = formats.ngettext(
            "${what} (and ${n} more time soon after)",
            "${what} (and ${n} more times soon after)",
            repeats,
            what=text,
        )
    return EventRow(
        when=event.created_at,
        description=text,
        ip=event.ip or formats.translate(_("unknown")),
        device=describe_user_agent(event.user_agent),
        actor_id=event.actor_id,
        outcome="failed" if event.kind in FAILURES else "ok",
        actor_email=(actors or {}).get(event.actor_id) if event.actor_id else None,
        actor_erased=details.get("actor_erased") is True,
    )
