"""The refusals of an account's life beyond its password: deleting it, bringing it back,
and signing in with an emailed code. Part of errors.py's family (error_codes() finds
them once this module is imported, as the services that raise them do)."""

from __future__ import annotations

from app.services.kernel.errors import AccountDisabled, DomainError, SignInFailed
from app.translation import _


class AccountDeletionPending(AccountDisabled):
    """The right password (or passkey, or provider) for an account waiting to be erased:
    only its restore link brings it back, and the owner is told where to find it."""

    code = "account_deletion_pending"

    def __init__(self) -> None:
        SignInFailed.__init__(
            self,
            _(
                "This account is being deleted, so it cannot sign in. To keep it, open the"
                " restore link in the email we sent when it was deleted."
            ),
        )


class DeletionRefused(DomainError):
    """The last active administrator cannot delete its own account."""

    code = "last_administrator_stays"
    message = _(
        "You are the last administrator: make another account an administrator before"
        " deleting yours."
    )


class SignInCodeInvalid(DomainError):
    """A wrong emailed sign-in code, a spent or expired one, one out of tries, or one
    asked for in another browser: one answer for all of them, so that an address with no
    account (which gets no code) cannot be told from one with."""

    code = "sign_in_code_invalid"
    message = _(
        "That code is not right, or it can no longer be used (after 10 minutes or three"
        " tries). Check the email, or ask for a new code."
    )
