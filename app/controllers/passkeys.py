"""The account's passkeys: the list, adding one (a WebAuthn registration ceremony),
renaming and removing."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from app.controllers import passkey_ceremonies as ceremonies
from app.controllers.base import ControllerBase, see_other
from app.models import Account, WebAuthnCredential
from app.security import PERMISSION_RECENTLY_SIGNED_IN, PERMISSION_SIGNED_IN
from app.services.kernel.errors import PasskeyRefused
from app.translation import _
from app.viewmodels.passkeys import PasskeyAnswerViewModel, PasskeyNameViewModel

LIST_TEMPLATE = "app:templates/account/passkeys.pt"


class PasskeysController(ControllerBase):
    @property
    def account(self) -> Account:
        return self.request.identity

    def _list(self, rename_error: str | None = None, renaming: int | None = None) -> dict[str, Any]:
        two_factor = self.services.two_factor
        return {
            "passkeys": self.services.passkeys.for_account(self.account.id),
            "recovery_codes_left": two_factor.recovery_codes_left(self.account.id),
            "rename_error": rename_error,
            "renaming": renaming,
        }

    @view_config(
        route_name="account.passkeys",
        request_method="GET",
        renderer=LIST_TEMPLATE,
        permission=PERMISSION_SIGNED_IN,
    )
    def index(self) -> dict[str, Any]:
        return self._list()

    # Adding one: the options, then the browser's answer.

    @view_config(
        route_name="account.passkeys.add_options",
        request_method="POST",
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def add_options(self) -> Response:
        ceremony = self.services.passkeys.registration_ceremony(self.account)
        return ceremonies.offer(self.request, ceremonies.ADD, ceremony, self.account.id)

    @view_config(
        route_name="account.passkeys.add",
        request_method="POST",
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def add(self) -> Response:
        vm = PasskeyAnswerViewModel.from_request(self.request)
        challenge = ceremonies.take_challenge(self.request, ceremonies.ADD, self.account.id)
        if not vm.validate():
            return ceremonies.refusal(self.request, vm.error or "")
        try:
            passkey = self.services.passkeys.add(self.account, vm.credential, challenge, vm.name)
        except PasskeyRefused as exc:
            return ceremonies.refusal(self.request, exc)
        self.flash(
            _(
                "The passkey “${name}” is added. You can sign in with it now.",
                mapping={"name": passkey.name},
            )
        )
        return ceremonies.go_to(self.request, self.request.page_path("account.passkeys"))

    # Renaming and removing

    def _passkey(self) -> WebAuthnCredential:
        passkey = self.services.passkeys.find(self.account, int(self.request.matchdict["id"]))
        if passkey is None:
            raise HTTPNotFound()
        return passkey

    @view_config(
        route_name="account.passkeys.rename",
        request_method="POST",
        renderer=LIST_TEMPLATE,
        permission=PERMISSION_SIGNED_IN,
    )
    def rename(self) -> Any:
        passkey = self._passkey()
        vm = PasskeyNameViewModel.from_request(self.request)
        if not vm.validate():
            self.request.response.status = 400
            return self._list(rename_error=vm.error, renaming=passkey.id)
        self.services.passkeys.rename(passkey, vm.name)
        self.flash(_("The passkey is now called “${name}”.", mapping={"name": passkey.name}))
        return see_other(self.request, self.request.page_path("account.passkeys"))

    @view_config(
        route_name="account.passkeys.delete",
        request_method="POST",
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def delete(self) -> Response:
        passkey = self._passkey()
        self.services.passkeys.remove(self.account, passkey)
        self.flash(
            _(
                "The passkey “${name}” is removed. It no longer signs in.",
                mapping={"name": passkey.name},
            )
        )
        return see_other(self.request, self.request.page_path("account.passkeys"))
