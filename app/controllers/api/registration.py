"""Registering, confirming the address, and a forgotten password: the flows of someone
not signed in, with the same answers as the HTML pages (nothing says whether an
address has an account)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.security import forget

from app.api.modes import Mode
from app.api.operations import answer, api_operation
from app.api.schemas import (
    Accepted,
    Confirmation,
    Done,
    ForgotPassword,
    PasswordReset,
    Registration,
    SecondFactorRequired,
    SignedIn,
)
from app.controllers.api.base import ApiController
from app.i18n import translated
from app.models.login_sessions import APP_SESSION, BROWSER_SESSION
from app.services.kernel.email_addresses import clean_email
from app.services.signin.stages import SecondFactorNeeded
from app.translation import _

TAG = "Registration and passwords"

REGISTERED = _(
    "Check your email: we have sent a link to confirm the address. If the address already"
    " has an account, the email says so instead."
)
RESET_SENT = _("If the address has an account, we have emailed it a link to choose a new password.")
RESET_DONE = _("Your password has been reset, please sign in.")


class RegistrationApi(ApiController):
    @api_operation(
        "api.accounts",
        "POST",
        summary="Register an address with a password",
        tag=TAG,
        body=Registration,
        answers={202: Accepted},
        errors=(404,),
    )
    def register(self, mode: Mode, body: Registration) -> Response:
        """202 for a new address and for one that has an account alike: the email tells
        its owner which. The password policy's refusals are 400 with their codes.
        Where registration is closed, 404."""
        if not self.request.app_settings.allow_registration:
            raise HTTPNotFound()
        # A mistyped address is refused before the limits are counted, as the page does.
        clean_email(body.email)
        self.services.registration.register(body.email, body.password, body.display_name)
        return answer(Accepted(message=translated(self.request, REGISTERED)), status=202)

    @api_operation(
        "api.email.confirm",
        "POST",
        summary="Confirm the address with the emailed key and the password",
        tag=TAG,
        body=Confirmation,
        answers={201: SignedIn, 401: SecondFactorRequired},
        errors=(401,),
    )
    def confirm(self, mode: Mode, body: Confirmation) -> Response:
        """The key is the code of the emailed link. With the password chosen at
        registration the address is confirmed and the sign-in goes on: a session
        (201), or, for an account that has a second factor by now, 401
        second_factor_required."""
        account = self.services.registration.confirm(body.key, body.password)
        step = self.services.signin.after_confirmation(
            account,
            replacing=self.request.login_session if mode is Mode.BROWSER else None,
            kind=APP_SESSION if mode is Mode.APP else BROWSER_SESSION,
        )
        if isinstance(step, SecondFactorNeeded):
            return self.second_factor_needed(mode, step)
        return self.signed_in(mode, step)

    @api_operation(
        "api.password.forgot",
        "POST",
        summary="Email a link to choose a new password",
        tag=TAG,
        body=ForgotPassword,
        answers={202: Accepted},
    )
    def forgot(self, mode: Mode, body: ForgotPassword) -> Response:
        """202 whether or not the address has an account."""
        self.services.accounts.request_password_reset(body.email)
        return answer(Accepted(message=translated(self.request, RESET_SENT)), status=202)

    @api_operation(
        "api.password.reset",
        "POST",
        summary="Choose a new password with the emailed key",
        tag=TAG,
        body=PasswordReset,
        answers={200: Done},
    )
    def reset(self, mode: Mode, body: PasswordReset) -> Response:
        """The key is spent, every other open link of the account voided, and every
        session of the account ended (this one's too): sign in again."""
        self.services.accounts.reset_password(body.key, body.password)
        headers = []
        if mode is Mode.BROWSER:
            headers = forget(self.request)
        return answer(Done(message=translated(self.request, RESET_DONE)), headers=headers)
