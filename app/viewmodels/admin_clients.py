"""View models of the administrators' pages about the applications registered with the
identity provider."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyramid.request import Request

from app.models import OidcClient
from app.services.kernel.errors import ClientRefused
from app.services.oidc.clients import (
    MAX_URI_LENGTH,
    MAX_URIS,
    check_uri,
    clean_backchannel_uri,
    clean_name,
    clean_post_logout_uris,
    clean_redirect_uris,
)
from app.translation import _
from app.viewmodels.base import ViewModelBase

# A list of addresses, one a line: room for the most a client may have, line ends included.
MAX_URI_LIST_LENGTH = MAX_URIS * (MAX_URI_LENGTH + 2)
# An address quoted in an error message is cut to this length.
QUOTED_URI_LENGTH = 80
CHECKED = ("on", "true", "1", "yes")


@dataclass(frozen=True)
class ClientRow:
    client_id: str
    name: str
    is_public: bool
    first_party: bool
    created_at: datetime


def client_row(client: OidcClient) -> ClientRow:
    return ClientRow(
        client_id=client.client_id,
        name=client.name,
        is_public=client.is_public,
        first_party=client.first_party,
        created_at=client.created_at,
    )


class ClientListViewModel(ViewModelBase):
    def __init__(self, request: Request, clients: Sequence[OidcClient]) -> None:
        super().__init__(request)
        self.rows = [client_row(client) for client in clients]

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows}


def uri_lines(text: str) -> list[str]:
    """The addresses of a text area, one a line, blank lines left out."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def quoted(uri: str) -> str:
    if len(uri) <= QUOTED_URI_LENGTH:
        return uri
    return uri[: QUOTED_URI_LENGTH - 1] + "…"


class ClientFormViewModel(ViewModelBase):
    """The settings of an application, as the administrator types them: the addresses
    one a line. Each field is checked by the service's own rules, so that a refusal is
    shown beside the field it concerns."""

    FIELDS = (
        ("name", _("Name")),
        ("redirect_uris", _("Redirect addresses")),
        ("post_logout_redirect_uris", _("Addresses to return to after signing out")),
        ("backchannel_logout_uri", _("Back-channel logout address")),
    )
    # The name field takes the focus on the page of a new application only.
    focus_name = False

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.name = ""
        self.redirect_uris = ""
        self.post_logout_redirect_uris = ""
        self.backchannel_logout_uri = ""
        self.first_party = False

    def read_form(self) -> None:
        self.name = self.form_value("name")
        self.redirect_uris = self.form_value("redirect_uris", MAX_URI_LIST_LENGTH)
        self.post_logout_redirect_uris = self.form_value(
            "post_logout_redirect_uris", MAX_URI_LIST_LENGTH
        )
        self.backchannel_logout_uri = self.form_value("backchannel_logout_uri").strip()
        self.first_party = self.form_value("first_party") in CHECKED

    @property
    def redirect_uri_list(self) -> list[str]:
        return uri_lines(self.redirect_uris)

    @property
    def post_logout_uri_list(self) -> list[str]:
        return uri_lines(self.post_logout_redirect_uris)

    @property
    def backchannel_uri(self) -> str | None:
        return self.backchannel_logout_uri or None

    def validate(self) -> bool:
        if self.error:
            return False
        self._check("name", clean_name, self.name)
        self._check_list("redirect_uris", clean_redirect_uris, self.redirect_uri_list)
        self._check_list(
            "post_logout_redirect_uris", clean_post_logout_uris, self.post_logout_uri_list
        )
        self._check("backchannel_logout_uri", clean_backchannel_uri, self.backchannel_uri)
        return self.is_valid

    def _check(self, field: str, clean: Callable[[Any], object], value: object) -> None:
        try:
            clean(value)
        except ClientRefused as exc:
            self.fail(field, exc.message)

    def _check_list(
        self, field: str, clean: Callable[[Sequence[str]], object], uris: list[str]
    ) -> None:
        """The first address the rules refuse is named; then the list as a whole."""
        for uri in uris:
            try:
                check_uri(uri)
            except ClientRefused as exc:
                message = _(
                    "“${address}” cannot be used. ${reason}",
                    mapping={"address": quoted(uri), "reason": exc.message},
                )
                self.fail(field, message)
                return
        self._check(field, clean, uris)

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "name": self.name,
            "redirect_uris": self.redirect_uris,
            "post_logout_redirect_uris": self.post_logout_redirect_uris,
            "backchannel_logout_uri": self.backchannel_logout_uri,
            "first_party": self.first_party,
        }


class NewClientViewModel(ClientFormViewModel):
    focus_name = True

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.public = False

    @classmethod
    def from_request(cls, request: Request) -> NewClientViewModel:
        vm = cls(request)
        vm.read_form()
        vm.public = vm.form_value("public") in CHECKED
        return vm

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "public": self.public}


class ClientEditViewModel(ClientFormViewModel):
    """One application's page: what cannot change, and its settings in a form."""

    def __init__(self, request: Request, client: OidcClient) -> None:
        super().__init__(request)
        self.client = client

    @classmethod
    def from_client(cls, request: Request, client: OidcClient) -> ClientEditViewModel:
        vm = cls(request, client)
        vm.name = client.name
        vm.redirect_uris = "\n".join(client.redirect_uris)
        vm.post_logout_redirect_uris = "\n".join(client.post_logout_redirect_uris)
        vm.backchannel_logout_uri = client.backchannel_logout_uri or ""
        vm.first_party = client.first_party
        return vm

    @classmethod
    def from_request(cls, request: Request, client: OidcClient) -> ClientEditViewModel:
        vm = cls(request, client)
        vm.read_form()
        return vm

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "row": client_row(self.client),
            "secret_rotated_at": self.client.secret_rotated_at,
        }


class ClientSecretViewModel(ViewModelBase):
    """The page after adding an application or giving it a new secret: the secret is
    on it this once, and never again."""

    def __init__(
        self, request: Request, client: OidcClient, secret: str | None, rotated: bool
    ) -> None:
        super().__init__(request)
        self.client = client
        self.secret = secret
        self.rotated = rotated

    def to_dict(self) -> dict[str, Any]:
        return {"row": client_row(self.client), "secret": self.secret, "rotated": self.rotated}
