"""View models of the second-factor pages: the code at sign-in, re-authentication, and
setting up the authenticator app."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from app.services.kernel.errors import InvalidSecondFactorCode, WrongCurrentPassword
from app.translation import _
from app.viewmodels.account import MAX_PASSWORD_FIELD
from app.viewmodels.base import ViewModelBase, safe_redirect_path

# A 6-digit code or a recovery code, with room for spaces and dashes typed between.
MAX_CODE_FIELD = 64


class SecondFactorViewModel(ViewModelBase):
    """The second step of a sign-in: a code from the authenticator app, or a recovery
    code."""

    FIELDS = (("code", _("Code")),)
    REFUSAL_FIELDS = ((InvalidSecondFactorCode, "code"),)

    def __init__(self, request: Request, use_code: bool, use_passkey: bool) -> None:
        super().__init__(request)
        self.code = ""
        # Which factors the account has: a code (authenticator app or recovery codes), a
        # passkey, or both.
        self.use_code = use_code
        self.use_passkey = use_passkey

    @classmethod
    def from_request(
        cls, request: Request, use_code: bool, use_passkey: bool
    ) -> SecondFactorViewModel:
        vm = cls(request, use_code, use_passkey)
        vm.code = vm.form_value("code", MAX_CODE_FIELD)
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        if not self.code.strip():
            self.fail("code", _("Enter the code from your authenticator app, or a recovery code."))
        return self.is_valid

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "use_code": self.use_code, "use_passkey": self.use_passkey}


class ReauthenticateViewModel(ViewModelBase):
    FIELDS = (("password", _("Password")), ("code", _("Code")))
    SECRET_FIELDS = frozenset({"password"})
    REFUSAL_FIELDS = ((WrongCurrentPassword, "password"), (InvalidSecondFactorCode, "code"))

    def __init__(
        self,
        request: Request,
        email: str,
        needs_code: bool,
        use_code: bool,
        use_passkey: bool,
    ) -> None:
        super().__init__(request)
        self.email = email
        # needs_code: the account has a second factor. use_code: it has one that gives
        # codes (an account with only passkeys may have none). use_passkey: it has
        # passkeys, each enough alone.
        self.needs_code = needs_code
        self.use_code = use_code
        self.use_passkey = use_passkey
        # The providers linked to the account, each a way to confirm too, and their labels.
        self.upstream_links: list[Any] = []
        self.upstream_labels: dict[str, str] = {}
        self.password = ""
        self.code = ""
        self.came_from = safe_redirect_path(request.GET.get("came_from"))

    @classmethod
    def from_request(
        cls,
        request: Request,
        email: str,
        needs_code: bool,
        use_code: bool,
        use_passkey: bool,
    ) -> ReauthenticateViewModel:
        vm = cls(request, email, needs_code, use_code, use_passkey)
        vm.password = vm.form_value("password", MAX_PASSWORD_FIELD)
        vm.code = vm.form_value("code", MAX_CODE_FIELD)
        vm.came_from = safe_redirect_path(vm.form_value("came_from"))
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        if not self.password:
            self.fail("password", _("Enter your password."))
        if self.needs_code and not self.code.strip():
            self.fail("code", _("Enter the code from your authenticator app, or a recovery code."))
        return self.is_valid

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "email": self.email,
            "needs_code": self.needs_code,
            "use_code": self.use_code,
            "use_passkey": self.use_passkey,
            "came_from": self.came_from,
            "upstream_links": self.upstream_links,
            "upstream_labels": self.upstream_labels,
        }


class TotpSetupViewModel(ViewModelBase):
    FIELDS = (("code", _("Code from the app")),)
    REFUSAL_FIELDS = ((InvalidSecondFactorCode, "code"),)

    def __init__(
        self, request: Request, secret: str, qr_code_svg: str, otpauth_uri: str = ""
    ) -> None:
        super().__init__(request)
        self.secret = secret
        self.qr_code_svg = qr_code_svg
        # The same as the QR code, as a link that opens an authenticator app on the
        # device that shows the page (a phone cannot scan its own screen).
        self.otpauth_uri = otpauth_uri
        self.code = ""

    @classmethod
    def from_request(
        cls, request: Request, secret: str, qr_code_svg: str, otpauth_uri: str = ""
    ) -> TotpSetupViewModel:
        vm = cls(request, secret, qr_code_svg, otpauth_uri)
        vm.code = vm.form_value("code", MAX_CODE_FIELD)
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        if not self.code.strip():
            self.fail("code", _("Enter the 6-digit code the app shows, to check it is set up."))
        return self.is_valid

    def to_dict(self) -> dict[str, Any]:
        # The secret is grouped in fours, as people copy it more easily.
        grouped = " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))
        return {
            **super().to_dict(),
            "secret": grouped,
            "qr_code_svg": self.qr_code_svg,
            "otpauth_uri": self.otpauth_uri,
        }
