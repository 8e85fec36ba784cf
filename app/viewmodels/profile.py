"""The form of the account's display name (app/controllers/account_profile.py)."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from app.services.accounts.profile import DisplayNameRefused, clean_display_name
from app.translation import _
from app.viewmodels.base import ViewModelBase


class DisplayNameViewModel(ViewModelBase):
    FIELDS = (("display_name", _("Your name")),)
    REFUSAL_FIELDS = ((DisplayNameRefused, "display_name"),)

    def __init__(self, request: Request, display_name: str | None) -> None:
        super().__init__(request)
        self.display_name = display_name or ""

    @classmethod
    def from_request(cls, request: Request) -> DisplayNameViewModel:
        vm = cls(request, None)
        vm.display_name = vm.form_value("display_name")
        return vm

    def validate(self) -> bool:
        """An empty name is allowed: it takes the name away."""
        if self.error:
            return False
        try:
            clean_display_name(self.display_name)
        except DisplayNameRefused as exc:
            self.fail("display_name", exc.message)
        return self.is_valid

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "display_name": self.display_name}
