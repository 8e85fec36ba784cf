"""One view model per account form: parse, check the form's shape, and give the template
its values. Whether a password is strong enough is the service's to decide.

Passwords are read for validation only and never handed back to a template."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from app.services.accounts.profile import DisplayNameRefused, clean_display_name
from app.services.kernel.errors import (
    InvalidEmail,
    PasswordRejected,
    SameEmail,
    WrongCurrentPassword,
    WrongRegistrationPassword,
)
from app.translation import _
from app.viewmodels.base import ViewModelBase, check_new_password, safe_redirect_path

# Where the address a reset or an invitation was for waits for the sign-in form.
PREFILL_KEY = "signin_email"
# Enough for any password the policy accepts (128 code points of up to 4 bytes each);
# anything longer is refused before hashing.
MAX_PASSWORD_FIELD = 1024


class RegisterViewModel(ViewModelBase):
    FIELDS = (
        ("display_name", _("Your name")),
        ("email", _("Email address")),
        ("password", _("Password")),
        ("confirm_password", _("Password again")),
    )
    SECRET_FIELDS = frozenset({"password", "confirm_password"})
    # A name is checked here (the service would refuse it with the same message).
    REFUSAL_FIELDS = ((InvalidEmail, "email"), (PasswordRejected, "password"))

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.display_name = ""
        self.email = ""
        self.password = ""
        self.confirm_password = ""

    @classmethod
    def from_request(cls, request: Request) -> RegisterViewModel:
        vm = cls(request)
        vm.display_name = vm.form_value("display_name")
        vm.email = vm.form_value("email")
        vm.password = vm.form_value("password", MAX_PASSWORD_FIELD)
        vm.confirm_password = vm.form_value("confirm_password", MAX_PASSWORD_FIELD)
        return vm

    def validate(self) -> bool:
        """Every field is checked, so that one answer lists every problem."""
        if self.error:
            return False
        email = self.clean_email_field(self.email) if self.email.strip() else None
        if not self.email.strip():
            self.fail("email", _("Enter your email address."))
        if email is not None:
            self.email = email
        try:
            self.display_name = clean_display_name(self.display_name) or ""
        except DisplayNameRefused as exc:
            self.fail("display_name", exc.message)
        check_new_password(self, self.password, self.confirm_password)
        return self.is_valid

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "email": self.email, "display_name": self.display_name}


class SignInViewModel(ViewModelBase):
    FIELDS = (("email", _("Email address")), ("password", _("Password")))
    SECRET_FIELDS = frozenset({"password"})

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.email = ""
        self.password = ""
        self.came_from = safe_redirect_path(request.GET.get("came_from"))
        # "Remember me": a cookie that outlives the browser. Off unless asked for.
        self.remember_me = False
        # After a reset or an invitation, the form offers the address it was for.
        if request.method == "GET":
            self.email = request.pending_codes.read(request.session, PREFILL_KEY) or ""

    @classmethod
    def from_request(cls, request: Request) -> SignInViewModel:
        vm = cls(request)
        vm.email = vm.form_value("email")
        vm.password = vm.form_value("password", MAX_PASSWORD_FIELD)
        vm.came_from = safe_redirect_path(vm.form_value("came_from"))
        vm.remember_me = vm.form_value("remember_me") == "yes"
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        if not self.email.strip():
            self.fail("email", _("Enter your email address."))
        if not self.password:
            self.fail("password", _("Enter your password."))
        return self.is_valid

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "email": self.email.strip(),
            "came_from": self.came_from,
            "remember_me": self.remember_me,
        }


class ForgotPasswordViewModel(ViewModelBase):
    FIELDS = (("email", _("Email address")),)

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.email = ""

    @classmethod
    def from_request(cls, request: Request) -> ForgotPasswordViewModel:
        vm = cls(request)
        vm.email = vm.form_value("email")
        return vm

    def validate(self) -> bool:
        """Only the shape of the address is checked here; whether it has an account must
        not change the answer."""
        if self.error:
            return False
        if not self.email.strip():
            self.fail("email", _("Enter the email address of your account."))
            return False
        email = self.clean_email_field(self.email)
        if email is None:
            return False
        self.email = email
        return True

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "email": self.email}


class ResetPasswordViewModel(ViewModelBase):
    """The form behind a reset or invitation link; the code comes from the session."""

    FIELDS = (("password", _("New password")), ("confirm_password", _("New password again")))
    SECRET_FIELDS = frozenset({"password", "confirm_password"})
    REFUSAL_FIELDS = ((PasswordRejected, "password"),)

    def __init__(self, request: Request, code: str, email: str, is_invitation: bool) -> None:
        super().__init__(request)
        self.code = code
        self.email = email
        self.is_invitation = is_invitation
        self.password = ""
        self.confirm_password = ""

    @classmethod
    def from_request(
        cls, request: Request, code: str, email: str, is_invitation: bool
    ) -> ResetPasswordViewModel:
        vm = cls(request, code, email, is_invitation)
        vm.password = vm.form_value("password", MAX_PASSWORD_FIELD)
        vm.confirm_password = vm.form_value("confirm_password", MAX_PASSWORD_FIELD)
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        check_new_password(self, self.password, self.confirm_password)
        return self.is_valid

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "email": self.email,
            "is_invitation": self.is_invitation,
            "title": self.translate(
                _("Choose your password") if self.is_invitation else _("Choose a new password")
            ),
        }


class ChangePasswordViewModel(ViewModelBase):
    FIELDS = (
        ("current_password", _("Current password")),
        ("password", _("New password")),
        ("confirm_password", _("New password again")),
    )
    SECRET_FIELDS = frozenset({"current_password", "password", "confirm_password"})
    REFUSAL_FIELDS = ((WrongCurrentPassword, "current_password"), (PasswordRejected, "password"))

    def __init__(self, request: Request, email: str) -> None:
        super().__init__(request)
        self.email = email
        self.current_password = ""
        self.password = ""
        self.confirm_password = ""

    @classmethod
    def from_request(cls, request: Request, email: str) -> ChangePasswordViewModel:
        vm = cls(request, email)
        vm.current_password = vm.form_value("current_password", MAX_PASSWORD_FIELD)
        vm.password = vm.form_value("password", MAX_PASSWORD_FIELD)
        vm.confirm_password = vm.form_value("confirm_password", MAX_PASSWORD_FIELD)
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        if not self.current_password:
            self.fail("current_password", _("Enter your current password."))
        check_new_password(self, self.password, self.confirm_password)
        return self.is_valid

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "email": self.email}


class VerifyEmailViewModel(ViewModelBase):
    """Confirming a new account's address: the password chosen at registration."""

    FIELDS = (("password", _("Password")),)
    SECRET_FIELDS = frozenset({"password"})
    REFUSAL_FIELDS = ((WrongRegistrationPassword, "password"),)

    def __init__(self, request: Request, code: str, email: str) -> None:
        super().__init__(request)
        self.code = code
        self.email = email
        self.password = ""

    @classmethod
    def from_request(cls, request: Request, code: str, email: str) -> VerifyEmailViewModel:
        vm = cls(request, code, email)
        vm.password = vm.form_value("password", MAX_PASSWORD_FIELD)
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        if not self.password:
            self.fail("password", _("Enter the password you chose when you registered."))
        return self.is_valid

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "email": self.email}


class ChangeEmailViewModel(ViewModelBase):
    FIELDS = (("new_email", _("New email address")), ("current_password", _("Current password")))
    SECRET_FIELDS = frozenset({"current_password"})
    REFUSAL_FIELDS = (
        (WrongCurrentPassword, "current_password"),
        (InvalidEmail, "new_email"),
        (SameEmail, "new_email"),
    )

    def __init__(self, request: Request, email: str) -> None:
        super().__init__(request)
        self.email = email
        self.current_password = ""
        self.new_email = ""

    @classmethod
    def from_request(cls, request: Request, email: str) -> ChangeEmailViewModel:
        vm = cls(request, email)
        vm.current_password = vm.form_value("current_password", MAX_PASSWORD_FIELD)
        vm.new_email = vm.form_value("new_email")
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        if not self.new_email.strip():
            self.fail("new_email", _("Enter the new email address."))
        else:
            new_email = self.clean_email_field(self.new_email, "new_email")
            if new_email is not None:
                self.new_email = new_email
        if not self.current_password:
            self.fail("current_password", _("Enter your current password."))
        return self.is_valid

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "email": self.email, "new_email": self.new_email}
