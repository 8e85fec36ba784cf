"""The provider's reading of the JWTs it signed (docs/security.md 64): anything but a
string is refused, and so is a token longer than anything it signs, before it is
parsed, even with a good signature."""

from __future__ import annotations

import pytest
from joserfc import jwt

from app.services.composition import Services
from app.services.oidc.protocol import SIGNING_ALGORITHM, Provider
from tests.conftest import BASE_URL


def signed_token_of_length(provider: Provider, length: int) -> str:
    """A JWT signed with the provider's own key, padded to exactly `length` characters
    (a header member of one to three characters gives every length modulo 4)."""
    key = provider.signing_key()
    for extra in ("", "x", "xx", "xxx"):
        header = {"alg": SIGNING_ALGORITHM, "kid": key.kid} | ({"x": extra} if extra else {})

        def padded(pad: int, header: dict[str, str] = header) -> str:
            claims = {"iss": BASE_URL, "pad": "p" * pad}
            return jwt.encode(header, claims, key, algorithms=[SIGNING_ALGORITHM])

        estimate = (length - len(padded(0))) * 3 // 4
        for pad in range(max(0, estimate - 3), estimate + 4):
            token = padded(pad)
            if len(token) == length:
                return token
    raise AssertionError(f"no token of {length} characters")


def test_a_signed_token_is_read_up_to_8000_characters_and_refused_beyond(services: Services):
    provider = services.oidc_provider
    longest = signed_token_of_length(provider, 8000)
    claims = provider.verify(longest)
    assert claims is not None and claims["iss"] == BASE_URL
    assert provider.verify(signed_token_of_length(provider, 8001)) is None


@pytest.mark.parametrize("token", [None, 12345, b"a.b.c", ["a.b.c"]])
def test_anything_but_a_string_is_no_token(services: Services, token: object):
    assert services.oidc_provider.verify(token) is None
