"""Random one-time codes and tokens, and the digests that stand for them in the database."""

from __future__ import annotations

import hashlib
import secrets

# 32 bytes = 256 bits from the OS generator; token_urlsafe gives 43 characters.
CODE_BYTES = 32


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def digest(code: str) -> str:
    """SHA-256 hex of a code or token. A plain hash suffices: the input has 256 random bits,
    so there is nothing to brute-force, and a lookup by digest stays one index probe."""
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()
