"""Authenticator-app secrets the JSON API hands out, which only it can have made.

The HTML page keeps the secret it shows in the browser's session until a code confirms
it; the API has no session, so the client sends the secret back with the code. To turn
on only a secret this app chose for this account (never one a client made up, such as
all A's), each secret is 16 random bytes and a 4-byte tag: HMAC-SHA256, with a key of
its own, of the account's public id and those bytes. In base32 that is 32 characters,
the form pyotp's own secrets have."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from pyramid.config import Configurator

from app.services.kernel.secret_keys import API_TOTP_SETUPS, key_for

RANDOM_BYTES = 16
TAG_BYTES = 4


class TotpSetups:
    def __init__(self, secret: str) -> None:
        self._key = key_for(secret, API_TOTP_SETUPS)

    def _tag(self, account_id: str, nonce: bytes) -> bytes:
        message = account_id.encode("ascii") + b":" + nonce
        return hmac.new(self._key, message, hashlib.sha256).digest()[:TAG_BYTES]

    def issue(self, account_id: str) -> str:
        """A new secret for the account of this public id."""
        nonce = secrets.token_bytes(RANDOM_BYTES)
        return base64.b32encode(nonce + self._tag(account_id, nonce)).decode("ascii")

    def was_issued(self, account_id: str, secret: str) -> bool:
        """Whether `secret` is one issue() made for this account."""
        try:
            raw = base64.b32decode(secret.encode("ascii"))
        except (binascii.Error, UnicodeError, ValueError):
            return False
        if len(raw) != RANDOM_BYTES + TAG_BYTES:
            return False
        nonce, tag = raw[:RANDOM_BYTES], raw[RANDOM_BYTES:]
        return hmac.compare_digest(tag, self._tag(account_id, nonce))


def includeme(config: Configurator) -> None:
    config.registry["totp_setups"] = TotpSetups(config.registry["app_settings"].secret)
