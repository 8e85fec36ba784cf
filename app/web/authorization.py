"""The token of an `Authorization: Bearer` header (RFC 6750), read the one way every
part of the app reads it."""

from __future__ import annotations

from webob import Request

# A token longer than this is not one of ours, whatever it is.
MAX_BEARER_LENGTH = 1000


def bearer_token(request: Request) -> str | None:
    """The header's token, or None if the request has no bearer token."""
    header = request.headers.get("Authorization", "")
    scheme, _space, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_BEARER_LENGTH:
        return None
    return token
