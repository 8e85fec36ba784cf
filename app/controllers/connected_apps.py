"""The applications an account signed in to through the identity provider, and
disconnecting one (docs/security.md 66)."""

from __future__ import annotations

from typing import Any

from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from app.controllers.base import ControllerBase, see_other
from app.security import PERMISSION_SIGNED_IN
from app.translation import _


@view_defaults(permission=PERMISSION_SIGNED_IN)
class ConnectedAppsController(ControllerBase):
    @view_config(
        route_name="account.apps", request_method="GET", renderer="app:templates/account/apps.pt"
    )
    def apps(self) -> dict[str, Any]:
        return {"apps": self.services.oidc_consents.connected_apps(self.request.identity.id)}

    @view_config(route_name="account.apps.disconnect", request_method="POST")
    def disconnect(self) -> Response:
        client_id = self.request.matchdict["client_id"]
        if self.services.oidc_consents.disconnect(self.request.identity.id, client_id):
            self.flash(_("The application is disconnected: it must ask you again to sign in."))
        else:
            self.flash(_("That application was not connected."), queue="error")
        return see_other(self.request, self.request.page_path("account.apps"))
