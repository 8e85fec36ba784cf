"""Administrators: the applications registered to sign people in here (OpenID Connect
clients), their settings and secrets."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from app.controllers.base import ControllerBase, see_other
from app.models import Account, OidcClient
from app.security import PERMISSION_ADMIN, PERMISSION_ADMIN_ACTION
from app.services.kernel.errors import ClientRefused
from app.translation import _
from app.viewmodels.admin_clients import (
    ClientEditViewModel,
    ClientListViewModel,
    ClientSecretViewModel,
    NewClientViewModel,
    client_row,
)

ACTION = "admin.client.action"
CLIENT_TEMPLATE = "app:templates/admin/client.pt"
NEW_CLIENT_TEMPLATE = "app:templates/admin/new_client.pt"
# Shown in the answer to the POST itself: the secret is never kept to show it later.
SHOWN_ONCE_TEMPLATE = "app:templates/admin/client_created.pt"


@view_defaults(permission=PERMISSION_ADMIN)
class AdminClientsController(ControllerBase):
    @property
    def admin(self) -> Account:
        return self.request.identity

    @view_config(
        route_name="admin.clients",
        request_method="GET",
        renderer="app:templates/admin/clients.pt",
    )
    def clients_list(self) -> dict[str, Any]:
        return ClientListViewModel(self.request, self.services.oidc_clients.list()).to_dict()

    @view_config(route_name="admin.clients.new", request_method="GET", renderer=NEW_CLIENT_TEMPLATE)
    def new_client_get(self) -> dict[str, Any]:
        return NewClientViewModel(self.request).to_dict()

    @view_config(
        route_name="admin.clients.new",
        request_method="POST",
        renderer=NEW_CLIENT_TEMPLATE,
        permission=PERMISSION_ADMIN_ACTION,
    )
    def new_client_post(self) -> dict[str, Any]:
        vm = NewClientViewModel.from_request(self.request)
        if not vm.validate():
            return self.form_error(vm)
        try:
            new = self.services.oidc_clients.register(
                vm.name,
                vm.redirect_uri_list,
                public=vm.public,
                first_party=vm.first_party,
                backchannel_logout_uri=vm.backchannel_uri,
                post_logout_redirect_uris=vm.post_logout_uri_list,
                created_by_id=self.admin.id,
            )
        except ClientRefused as exc:
            return self.form_error(vm, exc)
        self.request.override_renderer = SHOWN_ONCE_TEMPLATE
        return ClientSecretViewModel(self.request, new.client, new.secret, rotated=False).to_dict()

    @view_config(route_name="admin.client", request_method="GET", renderer=CLIENT_TEMPLATE)
    def client_detail(self) -> dict[str, Any]:
        return ClientEditViewModel.from_client(self.request, self._client()).to_dict()

    @view_config(
        route_name="admin.client",
        request_method="POST",
        renderer=CLIENT_TEMPLATE,
        permission=PERMISSION_ADMIN_ACTION,
    )
    def client_save(self) -> Any:
        client = self._client()
        vm = ClientEditViewModel.from_request(self.request, client)
        if not vm.validate():
            return self.form_error(vm)
        try:
            self.services.oidc_clients.update(
                client.client_id,
                vm.name,
                vm.redirect_uri_list,
                vm.post_logout_uri_list,
                vm.backchannel_uri,
                vm.first_party,
                updated_by_id=self.admin.id,
            )
        except ClientRefused as exc:
            return self.form_error(vm, exc)
        self.flash(_("The settings of ${name} are saved.", mapping={"name": client.name}))
        return self._back_to(client)

    # One view per action; any other {action} matches none of them and is a 404.

    @view_config(
        route_name=ACTION,
        match_param="action=remove",
        request_method="GET",
        renderer="app:templates/admin/confirm_remove_client.pt",
        permission=PERMISSION_ADMIN_ACTION,
    )
    def remove_confirm(self) -> dict[str, Any]:
        """Removing cannot be undone: it is confirmed on a page of its own."""
        return {"row": client_row(self._client())}

    @view_config(
        route_name=ACTION,
        match_param="action=remove",
        request_method="POST",
        permission=PERMISSION_ADMIN_ACTION,
    )
    def remove(self) -> Response:
        client = self._client()
        name = client.name
        self.services.oidc_clients.remove(client.client_id, removed_by_id=self.admin.id)
        self.flash(
            _("${name} is removed: it can no longer sign anyone in.", mapping={"name": name})
        )
        return see_other(self.request, self.request.page_path("admin.clients"))

    @view_config(
        route_name=ACTION,
        match_param="action=rotate_secret",
        request_method="POST",
        renderer=SHOWN_ONCE_TEMPLATE,
        permission=PERMISSION_ADMIN_ACTION,
    )
    def rotate_secret(self) -> Any:
        client = self._client()
        try:
            secret = self.services.oidc_clients.rotate_secret(
                client.client_id, rotated_by_id=self.admin.id
            )
        except ClientRefused as exc:
            self.flash(exc.message, queue="error")
            return self._back_to(client)
        return ClientSecretViewModel(self.request, client, secret, rotated=True).to_dict()

    def _client(self) -> OidcClient:
        client = self.services.oidc_clients.find(self.request.matchdict["client_id"])
        if client is None:
            raise HTTPNotFound()
        return client

    def _back_to(self, client: OidcClient) -> Response:
        return see_other(
            self.request, self.request.route_path("admin.client", client_id=client.client_id)
        )
