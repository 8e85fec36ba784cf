"""Second factors: the authenticator app (set up, confirm, turn off), recovery codes and
passkeys. Changes need a recent sign-in, as on the HTML pages
(app/controllers/two_factor.py, passkeys.py)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response

from app.api.errors import ApiError
from app.api.modes import Mode
from app.api.operations import answer, api_operation
from app.api.schemas import (
    Passkey,
    PasskeyRename,
    Passkeys,
    RecoveryCodes,
    TotpConfirmation,
    TotpSetup,
)
from app.api.totp_setups import TotpSetups
from app.controllers.api.base import ApiController
from app.i18n import translated
from app.models import WebAuthnCredential
from app.security import PERMISSION_RECENTLY_SIGNED_IN, PERMISSION_SIGNED_IN
from app.translation import _

TAG = "Second factors"


class SecondFactorsApi(ApiController):
    @property
    def setups(self) -> TotpSetups:
        setups: TotpSetups = self.request.registry["totp_setups"]
        return setups

    def _refuse(self, code: str, message: str) -> ApiError:
        return ApiError(409, code, translated(self.request, message))

    @api_operation(
        "api.two_factor.totp",
        "POST",
        summary="Start setting up an authenticator app: a new secret",
        tag=TAG,
        answers={200: TotpSetup},
        permission=PERMISSION_RECENTLY_SIGNED_IN,
        errors=(409,),
    )
    def start_totp(self, mode: Mode) -> Response:
        """Nothing changes yet: the app is on once PUT confirms a code it made. 409
        authenticator_app_on if one is on already."""
        two_factor = self.services.two_factor
        if two_factor.has_totp(self.account):
            raise self._refuse("authenticator_app_on", _("An authenticator app is already on."))
        secret = self.setups.issue(self.account.public_id)
        return answer(
            TotpSetup(secret=secret, otpauth_uri=two_factor.provisioning_uri(self.account, secret))
        )

    @api_operation(
        "api.two_factor.totp",
        "PUT",
        summary="Turn the authenticator app on with a code it made",
        tag=TAG,
        body=TotpConfirmation,
        answers={200: RecoveryCodes},
        permission=PERMISSION_RECENTLY_SIGNED_IN,
        errors=(401, 409),
    )
    def confirm_totp(self, mode: Mode, body: TotpConfirmation) -> Response:
        """Answers a new set of recovery codes, shown once. A code that does not match
        is 401 invalid_second_factor_code."""
        if self.services.two_factor.has_totp(self.account):
            raise self._refuse("authenticator_app_on", _("An authenticator app is already on."))
        if not self.setups.was_issued(self.account.public_id, body.secret):
            raise ApiError(
                400,
                "secret_unknown",
                translated(
                    self.request,
                    _("Use the secret POST /api/v1/two_factor/totp gave for this account."),
                ),
                "secret",
            )
        codes = self.services.two_factor.enable_totp(self.account, body.secret, body.code)
        return answer(RecoveryCodes(recovery_codes=codes))

    @api_operation(
        "api.two_factor.totp",
        "DELETE",
        summary="Turn the authenticator app off",
        tag=TAG,
        answers={204: None},
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def disable_totp(self, mode: Mode) -> Response:
        """Off already is not an error. The owner is told by email."""
        if self.services.two_factor.has_totp(self.account):
            self.services.two_factor.disable_totp(self.account)
        return answer(status=204)

    @api_operation(
        "api.two_factor.recovery_codes",
        "POST",
        summary="Replace the recovery codes",
        tag=TAG,
        answers={200: RecoveryCodes},
        permission=PERMISSION_RECENTLY_SIGNED_IN,
        errors=(409,),
    )
    def new_recovery_codes(self, mode: Mode) -> Response:
        """The old codes stop working. 409 no_second_factor for an account without an
        authenticator app or a passkey, which recovery codes would stand in for."""
        if not self.services.two_factor.has_second_factor(self.account):
            raise self._refuse(
                "no_second_factor",
                _("Turn on an authenticator app or add a passkey first."),
            )
        codes = self.services.two_factor.new_recovery_codes(self.account)
        return answer(RecoveryCodes(recovery_codes=codes))

    @api_operation(
        "api.passkeys",
        "GET",
        summary="The account's passkeys",
        tag=TAG,
        answers={200: Passkeys},
        permission=PERMISSION_SIGNED_IN,
    )
    def passkeys(self, mode: Mode) -> Response:
        return answer(
            Passkeys(
                passkeys=[_passkey(p) for p in self.services.passkeys.for_account(self.account.id)]
            )
        )

    def _find(self) -> WebAuthnCredential:
        passkey_id = int(self.request.matchdict["id"])  # the route allows 1-9 digits only
        found = self.services.passkeys.find(self.account, passkey_id)
        if found is None:
            raise HTTPNotFound()
        return found

    @api_operation(
        "api.passkeys.one",
        "PUT",
        summary="Rename a passkey",
        tag=TAG,
        body=PasskeyRename,
        answers={200: Passkey},
        permission=PERMISSION_SIGNED_IN,
    )
    def rename_passkey(self, mode: Mode, body: PasskeyRename) -> Response:
        passkey = self._find()
        self.services.passkeys.rename(passkey, body.name)
        return answer(_passkey(passkey))

    @api_operation(
        "api.passkeys.one",
        "DELETE",
        summary="Remove a passkey",
        tag=TAG,
        answers={204: None},
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def remove_passkey(self, mode: Mode) -> Response:
        """It stops working at once; the owner is told by email. With the last second
        factor go the recovery codes."""
        self.services.passkeys.remove(self.account, self._find())
        return answer(status=204)


def _passkey(passkey: WebAuthnCredential) -> Passkey:
    return Passkey(
        id=passkey.id,
        name=passkey.name,
        created_at=passkey.created_at,
        last_used_at=passkey.last_used_at,
    )
