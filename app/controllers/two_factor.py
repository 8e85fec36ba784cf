"""Two-factor sign-in: its status, setting up the authenticator app, recovery codes."""

from __future__ import annotations

from typing import Any

from pyramid.view import view_config, view_defaults

from app.controllers.base import ControllerBase, see_other
from app.i18n import translated
from app.models import Account
from app.security import PERMISSION_RECENTLY_SIGNED_IN, PERMISSION_SIGNED_IN
from app.services.kernel.errors import InvalidSecondFactorCode
from app.translation import _
from app.viewmodels.two_factor import TotpSetupViewModel

# The authenticator secret being set up, kept in this browser's session (encrypted)
# between the page that shows it and the code that confirms it.
SETUP_SECRET_KEY = "totp_setup"  # noqa: S105 - a session key
RECOVERY_CODES_TEMPLATE = "app:templates/account/recovery_codes.pt"
SETUP_TEMPLATE = "app:templates/account/totp_setup.pt"


@view_defaults(permission=PERMISSION_RECENTLY_SIGNED_IN)
class TwoFactorController(ControllerBase):
    @property
    def account(self) -> Account:
        return self.request.identity

    @view_config(
        route_name="account.two_factor",
        request_method="GET",
        renderer="app:templates/account/two_factor.pt",
        permission=PERMISSION_SIGNED_IN,
    )
    def status(self) -> dict[str, Any]:
        two_factor = self.services.two_factor
        return {
            "totp_on": two_factor.has_totp(self.account),
            "totp_since": self.account.totp_enabled_at,
            "passkeys": len(self.services.passkeys.for_account(self.account.id)),
            "recovery_codes_left": two_factor.recovery_codes_left(self.account.id),
        }

    @view_config(
        route_name="account.two_factor.totp", request_method="GET", renderer=SETUP_TEMPLATE
    )
    def setup_get(self) -> Any:
        if self.services.two_factor.has_totp(self.account):
            return see_other(self.request, self.request.page_path("account.two_factor"))
        return self._setup_form().to_dict()

    @view_config(
        route_name="account.two_factor.totp", request_method="POST", renderer=SETUP_TEMPLATE
    )
    def setup_post(self) -> Any:
        blank = self._setup_form()
        vm = TotpSetupViewModel.from_request(
            self.request, blank.secret, blank.qr_code_svg, blank.otpauth_uri
        )
        if not vm.validate():
            return self.form_error(vm)
        try:
            codes = self.services.two_factor.enable_totp(self.account, vm.secret, vm.code)
        except InvalidSecondFactorCode as exc:
            return self.form_error(vm, exc)
        self.request.pending_codes.drop(self.request.session, SETUP_SECRET_KEY)
        self.request.override_renderer = RECOVERY_CODES_TEMPLATE
        return {"codes": codes, "just_enabled": True}

    def _setup_form(self) -> TotpSetupViewModel:
        """The set-up page's secret: the one this browser was shown, or a new one."""
        two_factor, session = self.services.two_factor, self.request.session
        secret = self.request.pending_codes.read(session, SETUP_SECRET_KEY)
        if secret is None:
            secret = two_factor.new_totp_secret()
            self.request.pending_codes.keep(session, SETUP_SECRET_KEY, secret)
        uri = two_factor.provisioning_uri(self.account, secret)
        title = translated(self.request, _("QR code to scan with your authenticator app"))
        svg = two_factor.qr_code_svg(uri, title=title)
        return TotpSetupViewModel(self.request, secret, svg, uri)

    @view_config(route_name="account.two_factor.totp_disable", request_method="POST")
    def disable(self) -> Any:
        if self.services.two_factor.has_totp(self.account):
            self.services.two_factor.disable_totp(self.account)
            self.flash(_("Two-factor sign-in with the authenticator app is off."))
        return see_other(self.request, self.request.page_path("account.two_factor"))

    @view_config(
        route_name="account.two_factor.recovery_codes",
        request_method="POST",
        renderer=RECOVERY_CODES_TEMPLATE,
    )
    def new_recovery_codes(self) -> Any:
        # Recovery codes stand in for a lost authenticator app or passkey: there must be one.
        if not self.services.two_factor.has_second_factor(self.account):
            return see_other(self.request, self.request.page_path("account.two_factor"))
        codes = self.services.two_factor.new_recovery_codes(self.account)
        return {"codes": codes, "just_enabled": False}
