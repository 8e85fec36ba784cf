"""The JSON API's passkey ceremonies, without a server-side session: the options carry a
ceremony token that seals (encrypted, for this use alone) the challenge, the ceremony it
was given for and the account it was given to; the answer sends it back. A token lives
as long as a ceremony (5 minutes), and each challenge is answered once: the passkey
service notes it as spent, so a token sent again is refused."""

from __future__ import annotations

import json

from cryptography.fernet import InvalidToken
from pyramid.config import Configurator
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from app.services.kernel.secret_keys import PASSKEY_CEREMONIES, fernet_for
from app.services.mfa.webauthn_protocol import CEREMONY_SECONDS, Ceremony

# The ceremonies, each with its own tokens.
ADD = "add"
SIGN_IN = "sign_in"
SECOND_FACTOR = "second_factor"
REAUTHENTICATE = "reauthenticate"


class CeremonyTokens:
    def __init__(self, secret: str) -> None:
        self._fernet = fernet_for(secret, PASSKEY_CEREMONIES)

    def seal(self, kind: str, ceremony: Ceremony, account_id: int | None) -> str:
        note = {
            "kind": kind,
            "challenge": bytes_to_base64url(ceremony.challenge),
            "account": account_id,
        }
        return self._fernet.encrypt(json.dumps(note).encode()).decode("ascii")

    def challenge(self, token: str, kind: str, account_id: int | None) -> bytes | None:
        """The challenge sealed in `token`, if it was made here for this ceremony and
        account less than CEREMONY_SECONDS ago; None otherwise."""
        try:
            note = json.loads(self._fernet.decrypt(token.encode("ascii"), ttl=CEREMONY_SECONDS))
            if note["kind"] != kind or note["account"] != account_id:
                return None
            return base64url_to_bytes(note["challenge"])
        except (InvalidToken, UnicodeError, ValueError, KeyError, TypeError):
            return None


def includeme(config: Configurator) -> None:
    config.registry["ceremony_tokens"] = CeremonyTokens(config.registry["app_settings"].secret)
