"""Signing in with an emailed code through the JSON API (docs/security.md 73), as the
pages do (app/controllers/email_code_sign_in.py): the address, then the code.

What binds the code to whoever asked is the request's token (its binding token and the
code's row): an application gets it sealed (encrypted with a key of its own, for ten
minutes) as `code_token` and sends it back with the code; a browser keeps it in its
session, and its script never sees it. Tries are counted on the server, and every
refusal is the same 400 sign_in_code_invalid, for unknown addresses alike."""

from __future__ import annotations

import json
from typing import Annotated

from cryptography.fernet import InvalidToken
from pydantic import BaseModel, ConfigDict, Field
from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response

from app.api.modes import Mode
from app.api.operations import answer, api_operation
from app.api.schemas import Code, Email, SignedIn
from app.controllers.api.base import ApiController
from app.i18n import translated
from app.models.login_sessions import APP_SESSION, BROWSER_SESSION
from app.services.kernel.email_addresses import clean_email
from app.services.kernel.lifecycle_errors import SignInCodeInvalid
from app.services.kernel.secret_keys import API_EMAIL_CODES, fernet_for
from app.services.links.link_policy import SIGN_IN_CODE_LIFETIME
from app.services.signin import stages
from app.services.signin.email_codes import CodeRequest
from app.translation import _

TAG = "Session"
# Where a browser's request for a code waits (the API's own, apart from the page's).
SESSION_KEY = "api_email_code"
SENT = _("If the address has an account, we have emailed it a code to type in.")


class EmailCodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email


class EmailCodeSent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str
    code_token: str | None = Field(
        description="App mode: send it back with the code (ten minutes). Null in browser mode."
    )


class EmailCodeAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code
    code_token: Annotated[str, Field(max_length=1000)] = Field(
        default="", description="App mode: the code_token the request answered."
    )
    remember: bool = Field(default=False, description="Browser mode: keep the cookie.")


class EmailCodeApi(ApiController):
    def _enabled(self) -> None:
        if not self.request.app_settings.allow_email_codes:
            raise HTTPNotFound()

    def _seal(self, asked: CodeRequest) -> str:
        fernet = fernet_for(self.request.app_settings.secret, API_EMAIL_CODES)
        return fernet.encrypt(json.dumps(asked.to_json()).encode()).decode("ascii")

    def _unseal(self, token: str) -> CodeRequest | None:
        fernet = fernet_for(self.request.app_settings.secret, API_EMAIL_CODES)
        ttl = int(SIGN_IN_CODE_LIFETIME.total_seconds())
        try:
            return CodeRequest.from_json(json.loads(fernet.decrypt(token.encode("ascii"), ttl)))
        except (InvalidToken, UnicodeError, ValueError):
            return None

    @api_operation(
        "api.session.email_code",
        "POST",
        summary="Sign in with a code sent by email: ask for the code",
        tag=TAG,
        body=EmailCodeRequest,
        answers={202: EmailCodeSent},
        errors=(404, 429),
    )
    def ask(self, mode: Mode, body: EmailCodeRequest) -> Response:
        """202 for every address: only one with an account that may sign in gets an
        email. Five an hour to one address. 404 where signin.email_codes is off."""
        self._enabled()
        clean_email(body.email)
        asked = self.services.email_codes.send(body.email)
        token: str | None = self._seal(asked)
        if mode is Mode.BROWSER:
            self.request.session[SESSION_KEY] = token
            token = None
        message = translated(self.request, SENT)
        return answer(EmailCodeSent(message=message, code_token=token), status=202)

    @api_operation(
        "api.session.email_code.verify",
        "POST",
        summary="Sign in with a code sent by email: the code",
        tag=TAG,
        body=EmailCodeAnswer,
        answers={201: SignedIn},
        errors=(401, 403, 404),
    )
    def verify(self, mode: Mode, body: EmailCodeAnswer) -> Response:
        """The code (XXXX-XXXX, case, spaces and the dash forgiven) with the code_token
        (app mode; a browser's session holds it). 400 sign_in_code_invalid for any
        refusal; an account with a second factor answers 401 second_factor_required
        with a pending token, as the password step does."""
        self._enabled()
        token = body.code_token if mode is Mode.APP else self.request.session.get(SESSION_KEY)
        asked = self._unseal(token) if isinstance(token, str) and token else None
        if asked is None:
            raise SignInCodeInvalid()
        account = self.services.email_codes.verify(asked, body.code)
        if mode is Mode.BROWSER:
            self.request.session.pop(SESSION_KEY, None)
        step = self.services.signin.with_emailed_code(
            account,
            remember=body.remember,
            replacing=self.request.login_session if mode is Mode.BROWSER else None,
            kind=APP_SESSION if mode is Mode.APP else BROWSER_SESSION,
        )
        if isinstance(step, stages.SecondFactorNeeded):
            return self.second_factor_needed(mode, step)
        assert isinstance(step, stages.SignedIn)
        return self.signed_in(mode, step)
