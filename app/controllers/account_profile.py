"""/account/name: the name the account goes by (optional), in greetings, emails and the
`name` claim applications get."""

from __future__ import annotations

from typing import Any

from pyramid.view import view_config

from app.controllers.base import ControllerBase, see_other
from app.security import PERMISSION_SIGNED_IN
from app.services.accounts.profile import DisplayNameRefused
from app.translation import _
from app.viewmodels.profile import DisplayNameViewModel

NAME_TEMPLATE = "app:templates/account/name.pt"


class AccountProfileController(ControllerBase):
    @view_config(
        route_name="account.name",
        request_method="GET",
        renderer=NAME_TEMPLATE,
        permission=PERMISSION_SIGNED_IN,
    )
    def form(self) -> dict[str, Any]:
        return DisplayNameViewModel(self.request, self.request.identity.display_name).to_dict()

    @view_config(
        route_name="account.name",
        request_method="POST",
        renderer=NAME_TEMPLATE,
        permission=PERMISSION_SIGNED_IN,
    )
    def save(self) -> Any:
        vm = DisplayNameViewModel.from_request(self.request)
        if not vm.validate():
            return self.form_error(vm)
        try:
            name = self.services.profile.set_display_name(self.request.identity, vm.display_name)
        except DisplayNameRefused as exc:
            return self.form_error(vm, exc)
        if name:
            self.flash(_("We will call you ${name}.", mapping={"name": name}))
        else:
            self.flash(_("Your account has no name now."))
        return see_other(self.request, self.request.page_path("account"))
