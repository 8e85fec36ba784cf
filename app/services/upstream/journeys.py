"""What waits in the browser while a person is away at another provider, and after it
answered: both sealed (encrypted with a key of their own, and dated), so the browser
holds them without reading or changing them.

An OutgoingRequest is written when the person leaves (its state, nonce and PKCE
verifier) and read once when the provider calls back. An UpstreamAnswer is who the
provider said the person is, kept while they confirm a new account or prove the local
account the address belongs to."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from cryptography.fernet import Fernet, InvalidToken

# How long a person may take at the provider, and then to confirm or prove an account.
JOURNEY_LIFETIME = timedelta(minutes=10)


class Purpose(StrEnum):
    """Why the person went to the provider."""

    SIGN_IN = "sign_in"
    # Signed in already: link the provider's account to this one.
    LINK = "link"
    # Signed in already: prove it is still them, for a sensitive change.
    REAUTHENTICATE = "reauthenticate"


@dataclass(frozen=True)
class OutgoingRequest:
    provider: str
    purpose: str
    state: str
    nonce: str
    code_verifier: str
    started_at: float
    came_from: str = "/account"
    # The account that asked, for a link or a re-authentication.
    account_id: int | None = None


@dataclass(frozen=True)
class UpstreamAnswer:
    """Who the provider says the person is. `subject` never changes there; the address
    may, and counts only when the provider says it verified it."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    # RFC 8176 methods the provider says its own sign-in used.
    amr: tuple[str, ...] = ()
    started_at: float = 0.0
    came_from: str = "/account"

    @property
    def verified_email(self) -> str | None:
        return self.email if self.email and self.email_verified else None


_Sealed = TypeVar("_Sealed", OutgoingRequest, UpstreamAnswer)


def seal(fernet: Fernet, value: OutgoingRequest | UpstreamAnswer) -> str:
    payload = {"kind": type(value).__name__, **asdict(value)}
    return fernet.encrypt(json.dumps(payload).encode()).decode()


def unseal(fernet: Fernet, kind: type[_Sealed], token: Any, now: datetime) -> _Sealed | None:
    """The value of this kind sealed in `token`, or None if there is none, it was not
    made here, is of another kind, or is older than a journey may last."""
    try:
        payload = json.loads(fernet.decrypt(token))
        if payload.pop("kind") != kind.__name__:
            return None
        names = {field.name for field in fields(kind)}
        if set(payload) != names:
            return None
        if "amr" in payload:
            payload["amr"] = tuple(str(method) for method in payload["amr"])
        value = kind(**payload)
        started = float(value.started_at)
    except (InvalidToken, UnicodeError, ValueError, KeyError, TypeError, AttributeError):
        return None
    age = now.timestamp() - started
    if not 0 <= age <= JOURNEY_LIFETIME.total_seconds():
        return None
    return value
