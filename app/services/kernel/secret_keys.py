"""Keys derived from the app's one secret, one per use, so that no two uses share a key."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# What each key is for; changing one makes everything encrypted with it unreadable.
OIDC_SIGNING_KEYS = b"app oidc signing keys v1"
OIDC_SIGN_IN_REQUESTS = b"app oidc sign-in requests v1"
OUTBOX = b"app outbox bodies v1"
PASSKEY_CEREMONIES = b"app passkey ceremonies v1"
API_TOTP_SETUPS = b"app api totp setups v1"
API_EMAIL_CODES = b"app api email code requests v1"
PENDING_CODES = b"app pending codes v1"
PENDING_SIGN_INS = b"app pending sign-ins v1"
TOTP_SECRETS = b"app totp secrets v1"
UPSTREAM_SIGN_INS = b"app upstream sign-ins v1"


def key_for(secret: str, purpose: bytes) -> bytes:
    """32 bytes derived by HKDF-SHA256 from the app's secret, for this purpose only."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode("utf-8")
    )


def fernet_for(secret: str, purpose: bytes) -> Fernet:
    """A Fernet key derived by HKDF-SHA256 from the app's secret, for this purpose only."""
    return Fernet(base64.urlsafe_b64encode(key_for(secret, purpose)))
