"""What the browser is told when it is asked for a passkey: which passkeys may answer,
over which transports, whether the passkey must verify its user, and for how long."""

from __future__ import annotations

import json

import pytest

from app.services.mfa.webauthn_protocol import (
    CEREMONY_SECONDS,
    RelyingParty,
    authentication_options,
)
from tests.passkey_authenticator import b64url

RP = RelyingParty(
    id="accounts.example.test", name="Accounts", origin="https://accounts.example.test"
)


def _options(allowed: list[tuple[bytes, str]], verify_user: bool = True) -> dict:
    return json.loads(authentication_options(RP, allowed, verify_user).options_json)


def test_the_browser_is_told_each_allowed_passkey_with_the_transports_it_came_over() -> None:
    phone, key, old = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32

    options = _options([(phone, "hybrid,internal"), (key, "usb"), (old, "")])

    assert options["allowCredentials"] == [
        {"id": b64url(phone), "type": "public-key", "transports": ["hybrid", "internal"]},
        {"id": b64url(key), "type": "public-key", "transports": ["usb"]},
        {"id": b64url(old), "type": "public-key"},
    ]
    assert options["rpId"] == "accounts.example.test"


@pytest.mark.parametrize(
    ("verify_user", "asked"), [(True, "required"), (False, "preferred")], ids=["must", "may"]
)
def test_the_browser_is_told_whether_the_passkey_must_verify_its_user(
    verify_user: bool, asked: str
) -> None:
    assert _options([], verify_user)["userVerification"] == asked


def test_the_browser_is_given_the_same_five_minutes_as_the_server() -> None:
    assert CEREMONY_SECONDS == 300
    assert _options([(b"\x01" * 32, "internal")])["timeout"] == 300_000
