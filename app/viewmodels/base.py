"""What every view model shares: reading a form safely and reporting one error."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pyramid.request import Request

from app.services.email_addresses import InvalidEmail, clean_email

# A form value longer than this is refused before any work is done with it. Passwords
# have their own, lower, limit; this keeps megabyte fields away from everything else.
MAX_FIELD_LENGTH = 4096


class ViewModelBase:
    def __init__(self, request: Request) -> None:
        self.request = request
        self.error: str | None = None

    def form_value(self, name: str, max_length: int = MAX_FIELD_LENGTH) -> str:
        """One field of the POSTed form as text; '' when absent.

        A repeated field or an over-long value sets an error instead of being guessed at."""
        values = self.request.POST.getall(name)
        if not values:
            return ""
        if len(values) > 1:
            self.error = self.error or "The form was sent with a field repeated. Please try again."
            return ""
        value = values[0]
        if not isinstance(value, str):
            # A file upload where text was expected.
            self.error = self.error or "The form was sent in an unexpected format."
            return ""
        if len(value) > max_length:
            self.error = self.error or "A field of the form is far too long."
            return ""
        return value

    def clean_email_field(self, raw: str) -> str | None:
        """The address cleaned for storage, or None with the reason set as the error."""
        try:
            return clean_email(raw)
        except InvalidEmail as exc:
            self.error = str(exc)
            return None

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error}


def safe_redirect_path(candidate: str | None, default: str = "/account") -> str:
    """A same-site path to go to after sign-in, or the default.

    Accepts only a path that starts with a single '/' and names no other host, which
    rules out https://evil.test, //evil.test, /\\evil.test, https:evil.test, javascript:."""
    if not candidate or len(candidate) > 2000 or not candidate.isascii():
        # Non-ASCII cannot go into a Location header as it is.
        return default
    if any(ch in candidate for ch in "\\\r\n\t\x00") or not candidate.isprintable():
        return default
    if not candidate.startswith("/") or candidate.startswith("//"):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    return candidate
