"""The session: who is signed in, signing in (the password, then the second factor),
and signing out. The same sign-in flow as the HTML pages (app/services/signin/flow.py)."""

from __future__ import annotations

from pyramid.csrf import get_csrf_token
from pyramid.response import Response
from pyramid.security import forget

from app.api.modes import Mode
from app.api.operations import answer, api_operation
from app.api.schemas import (
    CurrentSession,
    SecondFactorRequest,
    SecondFactorRequired,
    SessionState,
    SignedIn,
    SignInRequest,
)
from app.controllers.api.base import ApiController
from app.controllers.signin_steps import drop_pending
from app.models.login_sessions import APP_SESSION, BROWSER_SESSION
from app.services.kernel import audit as events
from app.services.kernel.errors import AddressUnconfirmed, SignInExpired
from app.services.signin import stages
from app.services.signin.stages import SecondFactorNeeded

TAG = "Session"


class SessionApi(ApiController):
    @api_operation(
        "api.session",
        "GET",
        summary="Who is signed in, and the CSRF token of browser mode",
        tag=TAG,
        answers={200: SessionState},
    )
    def current(self, mode: Mode) -> Response:
        """Answers whether the request is signed in, and in browser mode the CSRF token
        to send as X-CSRF-Token with every unsafe method (signed in or not)."""
        login_session = self.request.login_session
        csrf_token = get_csrf_token(self.request) if mode is Mode.BROWSER else None
        if login_session is None:
            return answer(
                SessionState(signed_in=False, csrf_token=csrf_token, account=None, session=None)
            )
        return answer(
            SessionState(
                signed_in=True,
                csrf_token=csrf_token,
                account=self.account_info(login_session.account),
                session=CurrentSession(
                    id=login_session.id,
                    kind="app" if login_session.kind == APP_SESSION else "browser",
                    created_at=login_session.created_at,
                    authenticated_at=login_session.authenticated_at,
                    sign_in_method=login_session.sign_in_method,
                    recently_authenticated=self.services.login_sessions.is_recently_authenticated(
                        login_session
                    ),
                ),
            )
        )

    @api_operation(
        "api.session",
        "POST",
        summary="Sign in with an email address and a password",
        tag=TAG,
        body=SignInRequest,
        answers={201: SignedIn, 401: SecondFactorRequired},
        errors=(401, 403),
    )
    def sign_in(self, mode: Mode, body: SignInRequest) -> Response:
        """One answer for a wrong password and an unknown address (401 sign_in_failed).
        An account with a second factor answers 401 second_factor_required with a
        pending token; one whose address is unconfirmed 403 address_unconfirmed (a new
        link is emailed); a disabled one, with the right password, 403
        account_disabled."""
        kind = APP_SESSION if mode is Mode.APP else BROWSER_SESSION
        step = self.services.signin.with_password(
            body.email,
            body.password,
            remember=body.remember,
            replacing=self.request.login_session if mode is Mode.BROWSER else None,
            kind=kind,
        )
        if isinstance(step, SecondFactorNeeded):
            return self.second_factor_needed(mode, step)
        if isinstance(step, stages.AddressUnconfirmed):
            raise AddressUnconfirmed()
        return self.signed_in(mode, step)

    @api_operation(
        "api.session.second_factor",
        "POST",
        summary="The second step of a sign-in: an authenticator or recovery code",
        tag=TAG,
        body=SecondFactorRequest,
        answers={201: SignedIn},
        errors=(401,),
    )
    def second_factor(self, mode: Mode, body: SecondFactorRequest) -> Response:
        """Send the pending token of the password step as `Authorization: Bearer` (a
        browser may rely on its session instead). A wrong code answers 401
        invalid_second_factor_code and may be tried again; an expired sign-in 401
        sign_in_expired."""
        pending = self.pending_sign_in()
        try:
            result = self.services.signin.with_code(
                pending,
                body.code,
                replacing=self.request.login_session if mode is Mode.BROWSER else None,
            )
        except SignInExpired:
            drop_pending(self.request)
            raise
        return self.signed_in(mode, result)

    @api_operation(
        "api.session",
        "DELETE",
        summary="Sign out",
        tag=TAG,
        answers={204: None},
    )
    def sign_out(self, mode: Mode) -> Response:
        """Ends this session (the bearer token's, or the browser's cookie's); signed out
        already is not an error."""
        identity = self.request.identity
        if identity is not None:
            self.services.audit.record(events.SIGN_OUT, identity.id)
        if mode is Mode.APP:
            current = self.request.login_session
            if current is not None:
                self.services.login_sessions.revoke(current)
            return answer(status=204)
        headers = forget(self.request)
        self.request.session.invalidate()
        return answer(status=204, headers=headers)
