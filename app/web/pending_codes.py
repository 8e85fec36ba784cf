"""One-time codes waiting in the browser's session, between opening an emailed link and
sending the form it leads to (and other short-lived secrets of one browser: a sign-in
waiting for its second factor, an authenticator secret being set up).

Pyramid's session cookie is signed, not encrypted: whoever sees the cookie can read what
is in it. So a code is kept there only encrypted (Fernet, with a key derived from the
app's secret for this use alone), and for an hour at most."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import InvalidToken

from app.services.kernel.secret_keys import PENDING_CODES, fernet_for

MAX_AGE_SECONDS = 3600


class PendingCodes:
    def __init__(self, secret: str) -> None:
        self._fernet = fernet_for(secret, PENDING_CODES)

    def keep(self, session: Any, key: str, code: str) -> None:
        session[key] = self._fernet.encrypt(code.encode("utf-8")).decode("ascii")

    def read(self, session: Any, key: str, max_age: int = MAX_AGE_SECONDS) -> str | None:
        """The code kept under `key`, or None if there is none (or it is older than
        max_age seconds, or was not made by this app)."""
        token = session.get(key)
        if not isinstance(token, str) or not token:
            return None
        try:
            return self._fernet.decrypt(token.encode("ascii"), ttl=max_age).decode("utf-8")
        except (InvalidToken, UnicodeError):
            return None

    def drop(self, session: Any, key: str) -> None:
        session.pop(key, None)
