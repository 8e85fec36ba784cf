"""The forms of signing in with an emailed code: the address to send it to, then the
code (app/controllers/email_code_sign_in.py)."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from app.services.kernel.lifecycle_errors import SignInCodeInvalid
from app.translation import _
from app.viewmodels.account import ForgotPasswordViewModel
from app.viewmodels.base import ViewModelBase, safe_redirect_path
from app.viewmodels.two_factor import MAX_CODE_FIELD


class EmailCodeRequestViewModel(ForgotPasswordViewModel):
    """The address to send a code to: checked like the forgotten password's (its shape
    only), and where to go once signed in."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.came_from = safe_redirect_path(request.GET.get("came_from"))

    @classmethod
    def from_request(cls, request: Request) -> EmailCodeRequestViewModel:
        vm = cls(request)
        vm.email = vm.form_value("email")
        vm.came_from = safe_redirect_path(vm.form_value("came_from"))
        return vm

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "came_from": self.came_from}


class EmailCodeViewModel(ViewModelBase):
    FIELDS = (("code", _("Code")),)
    REFUSAL_FIELDS = ((SignInCodeInvalid, "code"),)

    def __init__(self, request: Request, email: str) -> None:
        super().__init__(request)
        # The address the code was sent to, as this browser typed it.
        self.email = email
        self.code = ""
        self.remember_me = False

    @classmethod
    def from_request(cls, request: Request, email: str) -> EmailCodeViewModel:
        vm = cls(request, email)
        vm.code = vm.form_value("code", MAX_CODE_FIELD)
        vm.remember_me = vm.form_value("remember_me") == "yes"
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        if not self.code.strip():
            self.fail("code", _("Enter the code from the email."))
        return self.is_valid

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "email": self.email, "remember_me": self.remember_me}
