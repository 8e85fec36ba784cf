"""How an email address is cleaned up and checked before it is stored or looked up."""

from __future__ import annotations

import re
import unicodedata

from .errors import InvalidEmail

MAX_EMAIL_LENGTH = 254

# Deliberately narrower than RFC 5322: one address, no quoting, no comments, no spaces,
# no control characters. Anything outside this is refused rather than interpreted,
# which keeps header injection ("\r\nBcc:") and address lists ("a@x, b@y") out.
_LOCAL_PART = re.compile(r"^[^\s@,;:<>()\[\]\"\\\x00-\x1f\x7f]+$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[^\s@,;:<>()\[\]\"\\\x00-\x1f\x7f.]{1,63}(?<!-)$")


def normalize_email(raw: str) -> str:
    """The stored form: NFC-composed, trimmed, lower-cased. Does not validate."""
    return unicodedata.normalize("NFC", raw).strip().lower()


def clean_email(raw: str) -> str:
    """Normalize and validate; raises InvalidEmail with a message for the user."""
    email = normalize_email(raw)
    if not email:
        raise InvalidEmail("Enter your email address.")
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidEmail(f"An email address has at most {MAX_EMAIL_LENGTH} characters.")
    if any(unicodedata.category(ch)[0] in "CZ" for ch in email):
        # Control, format (zero-width, direction overrides), unassigned and separator
        # characters: invisible or confusable, never part of a real address.
        raise InvalidEmail("Enter one email address like name@example.com.")
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmail("Enter an email address like name@example.com.")
    if len(local) > 64 or not _LOCAL_PART.match(local) or local.startswith(".") or ".." in local:
        raise InvalidEmail("Enter one email address like name@example.com.")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise InvalidEmail("Enter one email address like name@example.com.")
    return email
