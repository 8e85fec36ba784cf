"""How the HTML pages answer the steps of a sign-in (app/services/signin/flow.py): the
browser keeps a pending sign-in between the first and the second factor, and gets the
cookies of the session the flow started."""

from __future__ import annotations

from typing import Any

from pyramid.csrf import new_csrf_token
from pyramid.response import Response
from pyramid.security import remember

from app.controllers.base import see_other
from app.services.signin.stages import PendingSignIn, SecondFactorNeeded, SignedIn
from app.web.request import AppRequest

# The browser's session keeps the sealed PendingSignIn (encrypted by the flow) here.
PENDING_SIGN_IN_KEY = "pending_sign_in"


def keep_pending(request: AppRequest, step: SecondFactorNeeded) -> Response:
    """No session yet: only this browser's sealed note of the sign-in, then the page
    of the second step."""
    request.session[PENDING_SIGN_IN_KEY] = step.token
    return see_other(request, request.page_path("account.signin.two_factor"))


def read_pending(request: AppRequest) -> PendingSignIn | None:
    """This browser's sign-in waiting for its second factor, if any (and not too old)."""
    token: Any = request.session.get(PENDING_SIGN_IN_KEY)
    if token is None:
        return None
    return request.services.signin.read_pending(token)


def drop_pending(request: AppRequest) -> None:
    if PENDING_SIGN_IN_KEY in request.session:
        del request.session[PENDING_SIGN_IN_KEY]


def session_headers(request: AppRequest, result: SignedIn) -> list[tuple[str, str]]:
    """The cookies of the session the flow started (one that outlives the browser only
    with "remember me"), and a fresh CSRF token: nothing an attacker saw before sign-in
    stays valid. An account that has no language yet takes the one this browser is
    shown, for the emails it will get (so that a stranger's request cannot choose the
    language of the owner's mail). A pending sign-in is done with."""
    account = result.account
    if account.locale is None:
        account.locale = request.locale_name
    drop_pending(request)
    new_csrf_token(request)
    request.login_session = result.login_session
    return remember(
        request,
        account.id,
        token=result.session_token,
        device_token=result.device_token,
        persistent=result.remember,
    )


def signed_in(request: AppRequest, result: SignedIn, destination: str | None = None) -> Response:
    """The browser signed in: its cookies, and a 303 to where the sign-in was going."""
    headers = session_headers(request, result)
    return see_other(request, destination or result.came_from, headers)
