"""What a browser's session keeps while its person signs in with another provider
(app/controllers/upstream_sign_in.py), each sealed by app/services/upstream/journeys.py.

REQUEST_KEY holds the request the person left with, until the provider calls back.
ANSWER_KEY holds the provider's answer while someone new confirms their new account.
LINK_KEY holds it while the owner of the account with that address proves it: the
next sign-in of that account in this browser links the provider's account to it.
REAUTH_KEY holds a linked provider's fresh answer while a signed-in person gives the
second factor's code to re-authenticate."""

from __future__ import annotations

from typing import Any

from pyramid.response import Response

REQUEST_KEY = "upstream_request"
ANSWER_KEY = "upstream_answer"
LINK_KEY = "upstream_link"
REAUTH_KEY = "upstream_reauthentication"


def arm_link(request: Any, sealed_answer: str) -> None:
    request.session.pop(ANSWER_KEY, None)
    request.session[LINK_KEY] = sealed_answer


def forget_journey(request: Any) -> None:
    for key in (REQUEST_KEY, ANSWER_KEY, LINK_KEY, REAUTH_KEY):
        request.session.pop(key, None)


def leave_for(request: Any, url: str, sealed_request: str) -> Response:
    """Send the person to the provider, this browser keeping the request it made (and
    nothing of an earlier journey)."""
    forget_journey(request)
    request.session[REQUEST_KEY] = sealed_request
    return Response(status=303, location=url)
