"""The form that proves a local account before another provider's account is linked to
it: the address is the one the provider verified (shown, not typed), the password is
the account's own."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from app.services.kernel.errors import InvalidSecondFactorCode, SignInFailed
from app.services.upstream.journeys import UpstreamAnswer
from app.translation import _
from app.viewmodels.account import MAX_PASSWORD_FIELD
from app.viewmodels.base import ViewModelBase
from app.viewmodels.two_factor import MAX_CODE_FIELD


class LinkProofViewModel(ViewModelBase):
    FIELDS = (("password", _("Password")),)
    SECRET_FIELDS = frozenset({"password"})
    REFUSAL_FIELDS = ((SignInFailed, "password"),)

    def __init__(self, request: Request, answer: UpstreamAnswer, provider: str) -> None:
        super().__init__(request)
        # The provider's answer this browser keeps until the account is proven.
        self.answer = answer
        self.provider = provider
        self.email = answer.verified_email or ""
        self.password = ""

    @classmethod
    def posted(cls, request: Request, answer: UpstreamAnswer, provider: str) -> LinkProofViewModel:
        vm = cls(request, answer, provider)
        vm.password = vm.form_value("password", MAX_PASSWORD_FIELD)
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        if not self.password:
            self.fail("password", _("Enter your password."))
        return self.is_valid

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "email": self.email,
            "provider": self.provider,
            "provider_name": self.answer.provider,
        }


class UpstreamCodeViewModel(ViewModelBase):
    """The second factor's code, after a linked provider re-authenticated the person."""

    FIELDS = (("code", _("Code")),)
    REFUSAL_FIELDS = ((InvalidSecondFactorCode, "code"),)

    def __init__(self, request: Request, came_from: str) -> None:
        super().__init__(request)
        self.came_from = came_from
        self.code = ""

    @classmethod
    def posted(cls, request: Request, came_from: str) -> UpstreamCodeViewModel:
        vm = cls(request, came_from)
        vm.code = vm.form_value("code", MAX_CODE_FIELD)
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        if not self.code.strip():
            self.fail("code", _("Enter the code from your authenticator app, or a recovery code."))
        return self.is_valid
