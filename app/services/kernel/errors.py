"""The errors services raise when a rule says no. Each carries the message meant for the
person at the keyboard; controllers show it and choose the status, they never word it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.translation import _, english

if TYPE_CHECKING:
    from app.models import Account


class DomainError(Exception):
    """Base of every refusal a service makes. `message` is the translation string shown
    to the user (translated where it is shown); str(error) is its English text."""

    message: str = _("That could not be done.")

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(english(self.message))


class AccountNotFound(DomainError):
    message = _("No such account.")


class EmailTaken(DomainError):
    message = _("An account with this email address already exists.")


class InvalidEmail(DomainError, ValueError):
    """The text is not one plausible email address."""

    message = _("Enter one email address like name@example.com.")


class PasswordRejected(DomainError, ValueError):
    """The password does not meet the policy; the message says why."""


class WrongCurrentPassword(DomainError):
    message = _("Your current password is not correct.")


class PasswordChangedMeanwhile(DomainError):
    """The password was reset, or this session ended, while the change was being made."""

    message = _(
        "Your password was not changed: it was changed elsewhere, or this device was signed"
        " out, while you were changing it. Sign in again if you need to."
    )


class WrongRegistrationPassword(DomainError):
    message = _(
        "That is not the password this account was registered with. Enter the password"
        " you chose when you registered."
    )


class SameEmail(DomainError):
    message = _("That is already your email address.")


class EmailNotConfirmed(DomainError):
    """The right password, but the address has not been confirmed yet."""

    message = _("Confirm your email address first: we have sent you a link.")

    def __init__(self, account: Account) -> None:
        super().__init__()
        self.account = account


class SecondFactorRequired(DomainError):
    """The right password on an account with a second factor: no session until it passes."""

    message = _("Enter the code from your authenticator app, or a recovery code.")

    def __init__(self, account: Account, fingerprint: str) -> None:
        super().__init__()
        self.account = account
        # Ties the pending sign-in to the password that was checked (see authentication).
        self.fingerprint = fingerprint


class InvalidSecondFactorCode(DomainError):
    message = _(
        "That code is not right. Type the 6-digit code your authenticator app shows now,"
        " or one of your recovery codes."
    )


class PasskeyRefused(DomainError):
    message = _("This passkey could not be used here. Try again, or use your password.")


class SignInFailed(DomainError):
    """Wrong password, unknown address or unusable account: one answer for all of them."""

    message = _("Email or password is incorrect.")


class AccountDisabled(SignInFailed):
    """The right password for a disabled account: saying so tells nothing to anyone
    without the password, and tells the owner whom to ask."""

    def __init__(self, contact: str) -> None:
        super().__init__(
            _(
                "This account is disabled, so it cannot sign in. To use it again, contact"
                " ${contact}.",
                mapping={"contact": contact},
            )
        )


class CodeInvalid(DomainError):
    """Base of the ways a one-time code (an emailed link) can be refused."""


class CodeUnknown(CodeInvalid):
    message = _("This link is not valid. Ask for a new one.")


class CodeUsed(CodeInvalid):
    message = _("This link has already been used. Ask for a new one if needed.")


class CodeExpired(CodeInvalid):
    message = _("This link has expired. Ask for a new one.")


class AdminActionRefused(DomainError):
    """An administrator's action that would lock everybody out, or makes no sense."""


class RateLimited(DomainError):
    """Too many attempts; retry_after is how many seconds to wait."""

    message = _("Too many attempts.")

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)
