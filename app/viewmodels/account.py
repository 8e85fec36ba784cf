"""One view model per account form: parse, check the form's shape, and give the template
its values. Whether a password is strong enough is the service's to decide.

Passwords are read for validation only and never handed back to a template."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from .base import ViewModelBase, safe_redirect_path

# Enough for any password the policy accepts (128 code points of up to 4 bytes each);
# anything longer is refused before hashing.
MAX_PASSWORD_FIELD = 1024


class RegisterViewModel(ViewModelBase):
    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.email = ""
        self.password = ""
        self.confirm_password = ""

    @classmethod
    def from_request(cls, request: Request) -> RegisterViewModel:
        vm = cls(request)
        vm.email = vm.form_value("email")
        vm.password = vm.form_value("password", MAX_PASSWORD_FIELD)
        vm.confirm_password = vm.form_value("confirm_password", MAX_PASSWORD_FIELD)
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        email = self.clean_email_field(self.email)
        if email is None:
            return False
        self.email = email
        return _check_new_password(self, self.password, self.confirm_password)

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error, "email": self.email}


class SignInViewModel(ViewModelBase):
    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.email = ""
        self.password = ""
        self.came_from = safe_redirect_path(request.GET.get("came_from"))

    @classmethod
    def from_request(cls, request: Request) -> SignInViewModel:
        vm = cls(request)
        vm.email = vm.form_value("email")
        vm.password = vm.form_value("password", MAX_PASSWORD_FIELD)
        vm.came_from = safe_redirect_path(vm.form_value("came_from"))
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        if not self.email.strip() or not self.password:
            self.error = "Enter your email address and your password."
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error, "email": self.email.strip(), "came_from": self.came_from}


class ForgotPasswordViewModel(ViewModelBase):
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
        email = self.clean_email_field(self.email)
        if email is None:
            return False
        self.email = email
        return True

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error, "email": self.email}


class ResetPasswordViewModel(ViewModelBase):
    """The form behind a reset or invitation link; the code comes from the session."""

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
        return _check_new_password(self, self.password, self.confirm_password)

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": self.error,
            "email": self.email,
            "is_invitation": self.is_invitation,
            "title": "Choose your password" if self.is_invitation else "Choose a new password",
        }


class ChangePasswordViewModel(ViewModelBase):
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
            self.error = "Enter your current password."
            return False
        return _check_new_password(self, self.password, self.confirm_password)

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error, "email": self.email}


class VerifyEmailViewModel(ViewModelBase):
    """Confirming a new account's address: the password chosen at registration."""

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
            self.error = "Enter the password you chose when you registered."
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error, "email": self.email}


class ChangeEmailViewModel(ViewModelBase):
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
        if not self.current_password:
            self.error = "Enter your current password."
            return False
        new_email = self.clean_email_field(self.new_email)
        if new_email is None:
            return False
        self.new_email = new_email
        return True

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error, "email": self.email, "new_email": self.new_email}


def _check_new_password(vm: ViewModelBase, password: str, confirm_password: str) -> bool:
    """The new password was given, the same twice; the policy is the service's."""
    if not password:
        vm.error = "Choose a password."
        return False
    if password != confirm_password:
        vm.error = "The two passwords do not match."
        return False
    return True
