"""What the passkey endpoints share: the challenge each browser is waiting to answer, and
the JSON answers passkeys.js reads.

A ceremony is two JSON POSTs from app/static/passkeys.js: the options (with a fresh
challenge), then the browser's answer. Between the two the challenge waits in this
browser's session, encrypted, for five minutes, under the name of its ceremony (a
challenge given for adding a passkey cannot be answered to sign in) and with the account
it was given to. It is taken out before the answer is checked, and the service notes it
as answered, so that an old session cookie sent again cannot replay it either."""

from __future__ import annotations

import json

from pyramid.response import Response
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from app.i18n import translated
from app.services.kernel.errors import DomainError, RateLimited
from app.services.mfa.webauthn_protocol import CEREMONY_SECONDS, Ceremony
from app.web.request import AppRequest

# The ceremonies, each with its own place in the session.
ADD = "passkey_add"
SIGN_IN = "passkey_sign_in"
SECOND_FACTOR = "passkey_second_factor"
REAUTHENTICATE = "passkey_reauthenticate"


def offer(request: AppRequest, kind: str, ceremony: Ceremony, account_id: int | None) -> Response:
    """Keep the challenge for this browser and send the options to the browser."""
    note = {"challenge": bytes_to_base64url(ceremony.challenge), "account": account_id}
    request.pending_codes.keep(request.session, kind, json.dumps(note))
    return _json(ceremony.options_json, 200)


def take_challenge(request: AppRequest, kind: str, account_id: int | None) -> bytes | None:
    """The challenge this browser was given for this ceremony and account, taken out of
    its session; None if it has none (never asked, expired, or already answered)."""
    stored = request.pending_codes.read(request.session, kind, max_age=CEREMONY_SECONDS)
    request.pending_codes.drop(request.session, kind)
    if stored is None:
        return None
    note = json.loads(stored)
    if note.get("account") != account_id:
        return None
    return base64url_to_bytes(note["challenge"])


def refusal(request: AppRequest, error: DomainError | str, status: int = 400) -> Response:
    """A refusal passkeys.js shows beside the button. Returned rather than raised, so
    the transaction (and the event that records the refusal) is kept."""
    message = error.message if isinstance(error, DomainError) else error
    response = _json(json.dumps({"error": translated(request, message)}), status)
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def go_to(request: AppRequest, path: str, headers: list[tuple[str, str]] | None = None) -> Response:
    """Success: the page the browser goes to next (with the cookies of a new session)."""
    response = _json(json.dumps({"redirect": request.app_settings.origin + path}), 200)
    if headers:
        response.headerlist.extend(headers)
    return response


def _json(body: str, status: int) -> Response:
    # JSON is UTF-8 by definition (RFC 8259): the type names no charset. (Every answer
    # that is not a static file is sent no-store by app/web/headers.py.)
    return Response(
        body=body.encode(), status=status, content_type="application/json", charset=None
    )
