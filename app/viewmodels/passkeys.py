"""View models of the passkey pages: the browser's JSON answer to a ceremony, and the
form that renames a passkey."""

from __future__ import annotations

import json
from typing import Any

from pyramid.request import Request

from app.services.mfa.passkeys import MAX_NAME_LENGTH, PasskeyService
from app.translation import _
from app.viewmodels.base import ViewModelBase, safe_redirect_path

# A passkey's answer is a few kilobytes; one with an attestation certificate chain stays
# well under this. Anything larger is refused before it is parsed.
MAX_ANSWER_BYTES = 32 * 1024


class PasskeyAnswerViewModel(ViewModelBase):
    """What passkeys.js posts after the browser's ceremony, as JSON:
    {"credential": {...the credential's toJSON()...}, "name": "...", "next": "/..."}."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.credential: dict[str, Any] = {}
        self.name = ""
        self.next = safe_redirect_path(None)
        self.remember_me = False

    @classmethod
    def from_request(cls, request: Request) -> PasskeyAnswerViewModel:
        vm = cls(request)
        body = vm._read_json()
        if body is None:
            return vm
        credential, name, next_page = body.get("credential"), body.get("name", ""), body.get("next")
        if not (
            isinstance(credential, dict)
            and isinstance(name, str)
            and (next_page is None or isinstance(next_page, str))
        ):
            vm.error = vm.translate(_("The passkey's answer was not in the expected form."))
        else:
            vm.credential = credential
            vm.name = PasskeyService.clean_name(name[: MAX_NAME_LENGTH * 4])
            vm.next = safe_redirect_path(next_page)
            vm.remember_me = body.get("remember_me") is True
        return vm

    def _read_json(self) -> dict[str, Any] | None:
        if self.request.content_type != "application/json":
            self.error = self.translate(_("Send the passkey's answer as JSON."))
            return None
        body = self.request.body
        if len(body) > MAX_ANSWER_BYTES:
            self.error = self.translate(_("The passkey's answer is far too long."))
            return None
        try:
            parsed = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            self.error = self.translate(_("The passkey's answer could not be read as JSON."))
            return None
        if not isinstance(parsed, dict):
            self.error = self.translate(_("The passkey's answer was not in the expected form."))
            return None
        return parsed

    def validate(self) -> bool:
        return self.error is None


class PasskeyNameViewModel(ViewModelBase):
    """Renaming a passkey."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.name = ""

    @classmethod
    def from_request(cls, request: Request) -> PasskeyNameViewModel:
        vm = cls(request)
        vm.name = PasskeyService.clean_name(vm.form_value("name", MAX_NAME_LENGTH * 4))
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        if not self.name:
            self.error = self.translate(_("Give the passkey a name."))
            return False
        return True
