"""Signing in with a code emailed to the address (docs/security.md 73): the address, then
the code, typed in this browser; then the sign-in goes on as after a password (to the
second step when the account has a second factor). signin.email_codes = false turns it
off (404)."""

from __future__ import annotations

import json
from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from app.controllers.base import ControllerBase, see_other
from app.controllers.signin_steps import answer_step
from app.services.kernel.errors import InvalidEmail, RateLimited, SignInFailed
from app.services.kernel.lifecycle_errors import SignInCodeInvalid
from app.services.signin.email_codes import CodeRequest
from app.viewmodels.email_codes import EmailCodeRequestViewModel, EmailCodeViewModel

ASK_TEMPLATE = "app:templates/account/signin_email_code.pt"
CODE_TEMPLATE = "app:templates/account/signin_email_code_verify.pt"
# This browser's request for a code (its binding token among it), encrypted.
REQUEST_KEY = "email_code_request"


class EmailCodeSignInController(ControllerBase):
    def __init__(self, request: Any) -> None:
        super().__init__(request)
        if not request.app_settings.allow_email_codes:
            raise HTTPNotFound()

    @view_config(
        route_name="account.signin.email_code", request_method="GET", renderer=ASK_TEMPLATE
    )
    def ask(self) -> dict[str, Any]:
        return EmailCodeRequestViewModel(self.request).to_dict()

    @view_config(
        route_name="account.signin.email_code", request_method="POST", renderer=ASK_TEMPLATE
    )
    def send(self) -> Any:
        vm = EmailCodeRequestViewModel.from_request(self.request)
        if not vm.validate():
            return self.form_error(vm)
        try:
            asked = self.services.email_codes.send(vm.email)
        except RateLimited as exc:
            return self.too_many(exc)
        except InvalidEmail as exc:
            return self.form_error(vm, exc)
        self._keep(asked, vm.email, vm.came_from)
        return see_other(self.request, self.request.page_path("account.signin.email_code.verify"))

    @view_config(
        route_name="account.signin.email_code.verify", request_method="GET", renderer=CODE_TEMPLATE
    )
    def code_form(self) -> Any:
        kept = self._kept()
        if kept is None:
            return self._start_again()
        return EmailCodeViewModel(self.request, kept[1]).to_dict()

    @view_config(
        route_name="account.signin.email_code.verify", request_method="POST", renderer=CODE_TEMPLATE
    )
    def verify(self) -> Any:
        kept = self._kept()
        if kept is None:
            return self._start_again()
        asked, email, came_from = kept
        vm = EmailCodeViewModel.from_request(self.request, email)
        if not vm.validate():
            return self.form_error(vm)
        try:
            account = self.services.email_codes.verify(asked, vm.code)
            step = self.services.signin.with_emailed_code(
                account,
                came_from=came_from,
                remember=vm.remember_me,
                replacing=self.request.login_session,
            )
        except RateLimited as exc:
            return self.too_many(exc)
        except SignInCodeInvalid as exc:
            return self.form_error(vm, exc)
        except SignInFailed as exc:
            # The account may not sign in (disabled meanwhile, or being deleted).
            self.request.pending_codes.drop(self.request.session, REQUEST_KEY)
            return {**self.form_error(vm, exc), "dead": True}
        self.request.pending_codes.drop(self.request.session, REQUEST_KEY)
        return answer_step(self.request, step)

    def _keep(self, asked: CodeRequest, email: str, came_from: str) -> None:
        kept = {"asked": asked.to_json(), "email": email, "came_from": came_from}
        self.request.pending_codes.keep(self.request.session, REQUEST_KEY, json.dumps(kept))

    def _kept(self) -> tuple[CodeRequest, str, str] | None:
        """This browser's request for a code: the request, the address, where to go."""
        text = self.request.pending_codes.read(self.request.session, REQUEST_KEY)
        if text is None:
            return None
        try:
            kept = json.loads(text)
            asked = CodeRequest.from_json(kept["asked"])
            email, came_from = str(kept["email"]), str(kept["came_from"])
        except (ValueError, KeyError, TypeError):
            return None
        return None if asked is None else (asked, email, came_from)

    def _start_again(self) -> Response:
        return see_other(self.request, self.request.page_path("account.signin.email_code"))
