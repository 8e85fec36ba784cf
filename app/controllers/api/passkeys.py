"""Passkey ceremonies through the JSON API: signing in without a password, the second
step after a password, re-authentication, and adding a passkey. Each is two calls, the
options (with a ceremony token) then the credential (app/api/ceremonies.py); the
services and rules are those of the HTML pages' passkeys (passkey_sign_in.py,
passkeys.py)."""

from __future__ import annotations

import json

from pyramid.response import Response

from app.api import ceremonies
from app.api.ceremonies import CeremonyTokens
from app.api.errors import ApiError
from app.api.modes import Mode
from app.api.operations import answer, api_operation
from app.api.schemas import (
    Done,
    NewPasskey,
    Passkey,
    PasskeyAnswer,
    PasskeyOptions,
    PasskeySignIn,
    SignedIn,
)
from app.controllers.api.base import REAUTHENTICATED, ApiController
from app.i18n import translated
from app.models.login_sessions import APP_SESSION, BROWSER_SESSION
from app.security import PERMISSION_RECENTLY_SIGNED_IN, PERMISSION_SIGNED_IN
from app.services.kernel.errors import AddressUnconfirmed
from app.services.mfa.webauthn_protocol import Ceremony
from app.services.signin import stages
from app.translation import _

TAG = "Passkeys"
NO_PASSKEY = _("Your account has no passkey.")


class PasskeysApi(ApiController):
    @property
    def tokens(self) -> CeremonyTokens:
        tokens: CeremonyTokens = self.request.registry["ceremony_tokens"]
        return tokens

    def _offer(self, kind: str, ceremony: Ceremony, account_id: int | None) -> Response:
        return answer(
            PasskeyOptions(
                options=json.loads(ceremony.options_json),
                ceremony_token=self.tokens.seal(kind, ceremony, account_id),
            )
        )

    def _challenge(self, body: PasskeyAnswer, kind: str, account_id: int | None) -> bytes | None:
        # None (expired, forged, another ceremony's or account's) is refused by the
        # passkey service with passkey_request_expired.
        return self.tokens.challenge(body.ceremony_token, kind, account_id)

    def _no_passkey(self) -> ApiError:
        return ApiError(409, "no_passkey", translated(self.request, NO_PASSKEY))

    # Signing in without a password

    @api_operation(
        "api.session.passkey_options",
        "POST",
        summary="Sign in with a passkey: the options",
        tag=TAG,
        answers={200: PasskeyOptions},
    )
    def sign_in_options(self, mode: Mode) -> Response:
        ceremony = self.services.passkeys.authentication_ceremony()
        return self._offer(ceremonies.SIGN_IN, ceremony, None)

    @api_operation(
        "api.session.passkey",
        "POST",
        summary="Sign in with a passkey: the credential",
        tag=TAG,
        body=PasskeySignIn,
        answers={201: SignedIn},
        errors=(401, 403),
    )
    def sign_in(self, mode: Mode, body: PasskeySignIn) -> Response:
        """A passkey that verified its user is both factors. Refusals are 400 with a
        passkey_* code, or 401 sign_in_failed."""
        step = self.services.signin.with_passkey(
            body.credential,
            self._challenge(body, ceremonies.SIGN_IN, None),
            remember=body.remember,
            replacing=self.request.login_session if mode is Mode.BROWSER else None,
            kind=APP_SESSION if mode is Mode.APP else BROWSER_SESSION,
        )
        if isinstance(step, stages.AddressUnconfirmed):
            raise AddressUnconfirmed()
        return self.signed_in(mode, step)

    # The second step after a password

    @api_operation(
        "api.session.second_factor.passkey_options",
        "POST",
        summary="The second step with a passkey: the options",
        tag=TAG,
        answers={200: PasskeyOptions},
        errors=(401, 409),
    )
    def second_factor_options(self, mode: Mode) -> Response:
        """Send the pending token of the password step as `Authorization: Bearer`."""
        pending = self.pending_sign_in()
        account = self.services.accounts.find_account_by_id(pending.account_id)
        if account is None or not self.services.passkeys.has_passkeys(account):
            raise self._no_passkey()
        ceremony = self.services.passkeys.authentication_ceremony(account, verify_user=False)
        return self._offer(ceremonies.SECOND_FACTOR, ceremony, account.id)

    @api_operation(
        "api.session.second_factor.passkey",
        "POST",
        summary="The second step with a passkey: the credential",
        tag=TAG,
        body=PasskeyAnswer,
        answers={201: SignedIn},
        errors=(401,),
    )
    def second_factor(self, mode: Mode, body: PasskeyAnswer) -> Response:
        pending = self.pending_sign_in()
        result = self.services.signin.with_second_passkey(
            pending,
            body.credential,
            self._challenge(body, ceremonies.SECOND_FACTOR, pending.account_id),
            replacing=self.request.login_session if mode is Mode.BROWSER else None,
        )
        return self.signed_in(mode, result)

    # Re-authentication

    @api_operation(
        "api.reauthenticate.passkey_options",
        "POST",
        summary="Re-authenticate with a passkey: the options",
        tag=TAG,
        answers={200: PasskeyOptions},
        permission=PERMISSION_SIGNED_IN,
        errors=(409,),
    )
    def reauthenticate_options(self, mode: Mode) -> Response:
        if not self.services.passkeys.has_passkeys(self.account):
            raise self._no_passkey()
        ceremony = self.services.passkeys.authentication_ceremony(self.account, verify_user=True)
        return self._offer(ceremonies.REAUTHENTICATE, ceremony, self.account.id)

    @api_operation(
        "api.reauthenticate.passkey",
        "POST",
        summary="Re-authenticate with a passkey: the credential",
        tag=TAG,
        body=PasskeyAnswer,
        answers={200: Done},
        permission=PERMISSION_SIGNED_IN,
    )
    def reauthenticate(self, mode: Mode, body: PasskeyAnswer) -> Response:
        method = self.services.authentication.reauthenticate_with_passkey(
            self.account,
            body.credential,
            self._challenge(body, ceremonies.REAUTHENTICATE, self.account.id),
        )
        self.services.login_sessions.mark_authenticated(self.request.login_session, method.label)
        return answer(Done(message=translated(self.request, REAUTHENTICATED)))

    # Adding a passkey

    @api_operation(
        "api.passkeys.options",
        "POST",
        summary="Add a passkey: the options",
        tag=TAG,
        answers={200: PasskeyOptions},
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def add_options(self, mode: Mode) -> Response:
        ceremony = self.services.passkeys.registration_ceremony(self.account)
        return self._offer(ceremonies.ADD, ceremony, self.account.id)

    @api_operation(
        "api.passkeys",
        "POST",
        summary="Add a passkey: the credential",
        tag=TAG,
        body=NewPasskey,
        answers={201: Passkey},
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def add(self, mode: Mode, body: NewPasskey) -> Response:
        """The owner is told by email. A credential already registered (to this account
        or another) is refused with passkey_refused, saying nothing of its owner."""
        passkey = self.services.passkeys.add(
            self.account,
            body.credential,
            self._challenge(body, ceremonies.ADD, self.account.id),
            body.name,
        )
        return answer(
            Passkey(
                id=passkey.id,
                name=passkey.name,
                created_at=passkey.created_at,
                last_used_at=passkey.last_used_at,
            ),
            status=201,
        )
