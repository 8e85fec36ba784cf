"""The app's cookies: their names, lifetimes and flags, in one place.

In production (app.secure_cookies) every name carries the __Host- prefix, which browsers
accept only on a Secure cookie for the whole site (Path=/, no Domain): a subdomain or a
plain-HTTP page cannot plant or overwrite one."""

from __future__ import annotations

from dataclasses import dataclass

from webob.cookies import make_cookie

# The signed-in session (a random token; the session itself is in the database).
AUTH = "auth"
# Pyramid's signed session: the CSRF token, flash messages and pending one-time codes.
SESSION = "session"
# The browser's long-lived device token (see app/services/sessions/known_devices.py).
DEVICE = "device"
DEVICE_MAX_AGE_SECONDS = 365 * 86400


@dataclass(frozen=True)
class Cookies:
    secure: bool

    def name(self, base: str) -> str:
        return f"__Host-{base}" if self.secure else base

    def header(self, base: str, value: str, max_age: int | None) -> tuple[str, str]:
        """A Set-Cookie header: HttpOnly, SameSite=Lax, Path=/, Secure in production.
        A max_age of None makes a cookie that lasts until the browser closes."""
        cookie = make_cookie(
            self.name(base),
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="Lax",
        )
        return ("Set-Cookie", cookie.decode("latin-1") if isinstance(cookie, bytes) else cookie)

    def deletion(self, base: str) -> tuple[str, str]:
        return self.header(base, "", 0)
