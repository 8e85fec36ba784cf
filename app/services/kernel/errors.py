"""The errors services raise when a rule says no: every refusal the app can make is a
class here. Each carries a stable snake_case `code`, which a program reads (the JSON
API's errors, the identity provider's), and the message meant for the person at the
keyboard, translated where it is shown; controllers show it and choose the status,
they never word it. A class whose refusals differ in detail lists the codes an instance
may carry instead of its own (`other_codes`); error_codes() lists them all."""

from __future__ import annotations

from app.translation import _, english


class DomainError(Exception):
    """Base of every refusal a service makes. `message` is the translation string shown
    to the user (translated where it is shown); str(error) is its English text."""

    code: str = "refused"
    # The more precise codes an instance of this class may be given.
    other_codes: tuple[str, ...] = ()
    message: str = _("That could not be done.")

    def __init__(self, message: str | None = None, code: str | None = None) -> None:
        if code is not None:
            if code not in self.other_codes:
                raise ValueError(f"{type(self).__name__} has no code {code!r}")
            self.code = code
        if message is not None:
            self.message = message
        super().__init__(english(self.message))


def error_codes() -> dict[str, str]:
    """Every code a refusal can carry, with the class that carries it."""
    codes: dict[str, str] = {}
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        for code in (cls.code, *cls.other_codes):
            codes.setdefault(code, cls.__name__)
        pending.extend(cls.__subclasses__())
    return codes


class AccountNotFound(DomainError):
    code = "account_not_found"
    message = _("No such account.")


class EmailTaken(DomainError):
    code = "email_taken"
    message = _("An account with this email address already exists.")


class InvalidEmail(DomainError, ValueError):
    """The text is not one plausible email address."""

    code = "invalid_email"
    other_codes = (
        "email_missing",
        "email_too_long",
        "email_local_part_not_ascii",
    )
    message = _("Enter one email address like name@example.com.")


class PasswordRejected(DomainError, ValueError):
    """The password does not meet the policy; the message says why."""

    code = "password_rejected"
    other_codes = (
        "password_too_long",
        "password_too_short",
        "password_bad_character",
        "password_is_the_email",
        "password_too_weak",
        "password_breached",
    )


class WrongCurrentPassword(DomainError):
    code = "wrong_current_password"
    message = _("Your current password is not correct.")


class PasswordChangedMeanwhile(DomainError):
    """The password was reset, or this session ended, while the change was being made."""

    code = "password_changed_meanwhile"
    message = _(
        "Your password was not changed: it was changed elsewhere, or this device was signed"
        " out, while you were changing it. Sign in again if you need to."
    )


class WrongRegistrationPassword(DomainError):
    code = "wrong_registration_password"
    message = _(
        "That is not the password this account was registered with. Enter the password"
        " you chose when you registered."
    )


class SameEmail(DomainError):
    code = "same_email"
    message = _("That is already your email address.")


class InvalidSecondFactorCode(DomainError):
    code = "invalid_second_factor_code"
    message = _(
        "That code is not right. Type the 6-digit code your authenticator app shows now,"
        " or one of your recovery codes."
    )


class PasskeyRefused(DomainError):
    code = "passkey_refused"
    other_codes = (
        "passkey_unknown",
        "passkey_of_another_account",
        "passkey_request_expired",
        "passkey_request_answered",
        "passkey_copied",
        "passkey_just_used",
        "passkey_name_missing",
    )
    message = _("This passkey could not be used here. Try again, or use your password.")


class SignInFailed(DomainError):
    """Wrong password, unknown address or unusable account: one answer for all of them."""

    code = "sign_in_failed"
    message = _("Email or password is incorrect.")


class SignInExpired(SignInFailed):
    """The sign-in waiting for its second factor is over: too old, or the account or its
    password changed meanwhile."""

    code = "sign_in_expired"
    message = _("Your sign-in has expired. Sign in again.")


class AccountDisabled(SignInFailed):
    """The right password for a disabled account: saying so tells nothing to anyone
    without the password, and tells the owner whom to ask."""

    code = "account_disabled"

    def __init__(self, contact: str) -> None:
        super().__init__(
            _(
                "This account is disabled, so it cannot sign in. To use it again, contact"
                " ${contact}.",
                mapping={"contact": contact},
            )
        )


class AddressUnconfirmed(DomainError):
    """The right password, on an account whose address is not confirmed yet: no session
    (a new confirmation link went out if the hourly limit allowed)."""

    code = "address_unconfirmed"
    message = _(
        "Your password is right, but your email address has not been confirmed yet. Open"
        " the link we emailed you to confirm it, then sign in."
    )


class CodeInvalid(DomainError):
    """Base of the ways a one-time code (an emailed link) can be refused."""

    code = "link_invalid"


class CodeUnknown(CodeInvalid):
    code = "link_unknown"
    message = _("This link is not valid. Ask for a new one.")


class CodeUsed(CodeInvalid):
    code = "link_used"
    message = _("This link has already been used. Ask for a new one if needed.")


class CodeExpired(CodeInvalid):
    code = "link_expired"
    message = _("This link has expired. Ask for a new one.")


class AdminActionRefused(DomainError):
    """An administrator's action that would lock everybody out, or makes no sense."""

    code = "admin_action_refused"
    other_codes = (
        "already_has_password",
        "enable_first",
        "cannot_disable_yourself",
        "last_administrator",
        "no_second_factor",
    )


class RateLimited(DomainError):
    """Too many attempts; retry_after is how many seconds to wait."""

    code = "rate_limited"
    message = _("Too many attempts.")

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class ClientRefused(DomainError):
    """An OpenID Connect client's registration that the rules refuse (docs/security.md
    62): a redirect URI that is not https (or a loopback address), has a fragment, or is
    too long; a name missing or too long; no redirect URI at all."""

    code = "invalid_client_metadata"
    other_codes = ("invalid_redirect_uri", "client_not_found")
    message = _("That application's settings are not valid.")


class UpstreamRefused(DomainError):
    """Base of the refusals of a sign-in with another provider (app/services/upstream/):
    nothing was created, linked or changed. Some messages name the provider."""

    code = "upstream_refused"
    message = _("The sign-in with the other provider did not work. Start again.")

    def __init__(self, provider: str = "") -> None:
        super().__init__(_(self.message, mapping={"provider": provider}))


class UpstreamDenied(UpstreamRefused):
    code = "upstream_denied"
    message = _("The sign-in was cancelled at ${provider}, so you are not signed in.")


class UpstreamRequestUnknown(UpstreamRefused):
    code = "upstream_request_unknown"
    message = _(
        "This answer from ${provider} is not for a sign-in started in this browser, or it"
        " took too long. Start again."
    )


class UpstreamUnavailable(UpstreamRefused):
    code = "upstream_unavailable"
    message = _(
        "${provider} could not be reached, or did not answer as it should. Try again in a"
        " moment, or sign in another way."
    )


class UpstreamAnswerInvalid(UpstreamRefused):
    code = "upstream_answer_invalid"
    message = _("The answer from ${provider} could not be verified. Start again.")


class UpstreamAddressUnverified(UpstreamRefused):
    code = "upstream_address_unverified"
    message = _(
        "${provider} did not confirm your email address, so it cannot find or create an"
        " account here. Sign in another way, then link ${provider} to your account."
    )


class UpstreamIdentityInUse(UpstreamRefused):
    code = "upstream_identity_in_use"
    message = _("That ${provider} account is already linked to another account here.")


class UpstreamRegistrationClosed(UpstreamRefused):
    code = "upstream_registration_closed"
    message = _("There is no account here for this address, and new ones cannot be created.")


class LastWayIn(UpstreamRefused):
    code = "upstream_last_way_in"
    message = _("This is your only way to sign in: add a password or a passkey first.")


class UpstreamLinkUnknown(UpstreamRefused):
    code = "upstream_link_unknown"
    message = _("That link to another provider does not exist (any more).")
