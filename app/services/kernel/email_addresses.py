"""How an email address is cleaned up and checked before it is stored or looked up.

The syntax is email-validator's, narrowed to what can be delivered by any mail server: no
quoted local parts, no IP-address domains, and the part before the @ in ASCII (a
non-ASCII local part needs SMTPUTF8, which many servers lack). A domain in another script
is accepted and sent in its ASCII (IDNA) form."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from app.services.kernel.errors import InvalidEmail
from app.translation import _

MAX_EMAIL_LENGTH = 254


def normalize_email(raw: str) -> str:
    """The stored form: NFC-composed, trimmed, lower-cased. Does not validate."""
    return unicodedata.normalize("NFC", raw).strip().lower()


def clean_email(raw: str) -> str:
    """Normalize and validate; raises InvalidEmail with a message for the user."""
    email = normalize_email(raw)
    if not email:
        raise InvalidEmail(_("Enter your email address."), code="email_missing")
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidEmail(
            _(
                "An email address has at most ${n} characters.",
                mapping={"n": MAX_EMAIL_LENGTH},
            ),
            code="email_too_long",
        )
    if any(unicodedata.category(ch)[0] in ("C", "Z") for ch in email):
        # Control, format (zero-width, direction overrides), unassigned and separator
        # characters: invisible or confusable, never part of a real address. This also
        # keeps header injection ("\r\nBcc:") and lists ("a@x, b@y") out.
        raise InvalidEmail()
    local_part = email.rpartition("@")[0]
    if local_part and not local_part.isascii():
        raise InvalidEmail(
            _(
                "Use an address whose part before the @ has only plain letters, digits and"
                " punctuation: mail to other addresses cannot be delivered everywhere."
            ),
            code="email_local_part_not_ascii",
        )
    try:
        checked = validate_email(
            email,
            check_deliverability=False,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError:
        raise InvalidEmail() from None
    return checked.normalized.lower()
