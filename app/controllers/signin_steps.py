"""How the HTML pages answer the steps of a sign-in (app/services/signin/flow.py): the
browser keeps a pending sign-in between the first and the second factor, and gets the
cookies of the session the flow started."""

from __future__ import annotations

from typing import Any

from pyramid.csrf import new_csrf_token
from pyramid.response import Response
from pyramid.security import remember

from app.controllers.base import see_other
from app.i18n import translated
from app.models import Account
from app.services.kernel.errors import UpstreamRefused
from app.services.signin.stages import (
    AddressUnconfirmed,
    PendingSignIn,
    SecondFactorNeeded,
    SignedIn,
    Step,
)
from app.translation import _
from app.web.request import AppRequest
from app.web.upstream_journeys import LINK_KEY

# The browser's session keeps the sealed PendingSignIn (encrypted by the flow) here.
PENDING_SIGN_IN_KEY = "pending_sign_in"
CONFIRM_FIRST_TEMPLATE = "app:templates/account/confirm_first.pt"


def answer_step(request: AppRequest, step: Step) -> Response | dict[str, Any]:
    """What the browser gets for the step a first factor led to: the second step's page,
    the page that asks to confirm the address first (only the right first factor gets
    there, so it says nothing to anyone else), or the session's cookies."""
    if isinstance(step, SecondFactorNeeded):
        return keep_pending(request, step)
    if isinstance(step, AddressUnconfirmed):
        request.override_renderer = CONFIRM_FIRST_TEMPLATE
        return {"email": step.account.email}
    return signed_in(request, step)


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
    link_what_was_proven(request, account)
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


def link_what_was_proven(request: AppRequest, account: Account) -> None:
    """Another provider answered for an address that has an account here, and that
    account has now signed in in this browser: its owner proved it, so the provider's
    account is linked to it (app/controllers/upstream_sign_in.py)."""
    sealed = request.session.pop(LINK_KEY, None)
    if sealed is None:
        return
    services = request.services
    answer = services.upstream_round_trips.kept(sealed)
    if answer is None:
        return
    links = services.upstream_links
    try:
        owner = links.account_with_address(answer)
        if owner is None or owner.id != account.id:
            return
        links.link(account, answer)
    except UpstreamRefused as exc:
        request.session.flash(translated(request, exc.message), queue="error")
        return
    message = _(
        "Signing in with ${provider} is now linked to your account.",
        mapping={"provider": links.label(answer.provider)},
    )
    request.session.flash(translated(request, message), queue="success")
