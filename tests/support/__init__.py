"""Helpers shared by the tests: a fake clock, a real SMTP server, reading forms."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message

from aiosmtpd.controller import Controller

from app.services.signin.stages import PendingSignIn
from app.settings.limits import DEFAULT_LIMITS

# The address the unit tests' requests come from.
IP = "198.51.100.23"

# The signs_in fixture: whether this email and password would sign in now.
SignsIn = Callable[[str, str], bool]

# Settings that lift every rate limit, for tests where the limits are not the subject.
UNLIMITED_RATES = {f"ratelimit.{name}": "1000000/minute" for name in DEFAULT_LIMITS}

# The one-time link in an email, whichever page it opens.
LINK_PATTERN = re.compile(
    r"https?://[^\s\"<>]+/account/"
    r"(?:reset_password|verify_email|confirm_email|not_me|undo_email_change|restore)/"
    r"([A-Za-z0-9_\-]+)"
)


def waiting_sign_in(
    account_id: int, fingerprint: str, started_at: datetime, sign_ins: int = 0
) -> PendingSignIn:
    """A sign-in whose password (of this fingerprint) was checked at started_at, after
    the account's `sign_ins` sign-ins, waiting for its second factor, as the flow's first
    step leaves it."""
    return PendingSignIn(
        account_id=account_id,
        password_fingerprint=fingerprint,
        started_at=started_at,
        use_code=True,
        use_passkey=True,
        sign_ins=sign_ins,
    )


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self.current

    def advance(self, **kwargs: float) -> None:
        with self._lock:
            self.current += timedelta(**kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class CaughtMail:
    envelope_from: str
    recipients: list[str]
    message: Message

    @property
    def text(self) -> str:
        for part in self.message.walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                return payload.decode(part.get_content_charset() or "utf-8")
        return ""

    @property
    def html(self) -> str:
        for part in self.message.walk():
            if part.get_content_type() == "text/html":
                payload = part.get_payload(decode=True)
                return payload.decode(part.get_content_charset() or "utf-8")
        return ""

    @property
    def link_code(self) -> str | None:
        match = LINK_PATTERN.search(self.text)
        return match.group(1) if match else None

    @property
    def link(self) -> str | None:
        match = LINK_PATTERN.search(self.text)
        return match.group(0) if match else None


@dataclass
class Mailbox:
    messages: list[CaughtMail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Whether each message arrived over TLS, and the logins tried (and over what).
    over_tls: list[bool] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.messages.append(
                CaughtMail(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    email.message_from_bytes(
                        envelope.original_content or envelope.content,
                        policy=email.policy.default,
                    ),
                )
            )
            self.over_tls.append(session.ssl is not None)
        return "250 Message accepted for delivery"

    def authenticator(self, username: str, password: str):
        """An aiosmtpd authenticator accepting only this username and password."""
        from aiosmtpd.smtp import AuthResult, LoginPassword

        def check(server, session, envelope, mechanism, auth_data):
            if not isinstance(auth_data, LoginPassword):
                return AuthResult(success=False, handled=False)
            with self.lock:
                self.logins.append((auth_data.login.decode(), session.ssl is not None))
            ok = (auth_data.login.decode(), auth_data.password.decode()) == (username, password)
            return AuthResult(success=ok)

        return check

    def to(self, address: str, about: str | None = None) -> list[CaughtMail]:
        """The messages to this address (whose subject contains `about`, if given)."""
        with self.lock:
            return [
                m
                for m in self.messages
                if address in m.recipients and (about is None or about in m.message["Subject"])
            ]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[CaughtMail]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        with self.lock:
            return list(self.messages)


@dataclass
class RefusingRecipients:
    """An aiosmtpd handler that refuses every recipient with this reply
    (e.g. "550 5.1.1 No such mailbox", "451 4.3.0 Try again later")."""

    reply: str

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        return self.reply


class SMTPServer:
    """A real SMTP server (aiosmtpd) on a loopback port, which can be stopped and
    started again on the same port. Options go to aiosmtpd's SMTP (tls_context,
    require_starttls, authenticator, auth_required, ...)."""

    def __init__(self, port: int | None = None, **options: object) -> None:
        self.port = port or free_port()
        self.mailbox = Mailbox()
        self.options = options
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            self.mailbox, hostname="127.0.0.1", port=self.port, **self.options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def form_by_action(response, action: str):
    for form in response.forms.values():
        if form.action == action:
            return form
    raise AssertionError(f"no form posting to {action} on this page")


def comparable(response, email: str) -> dict:
    """Everything a client can see, with the random CSRF, cookie and request-id values
    blanked and the address the visitor typed (which the form shows back) replaced by a
    placeholder."""
    body = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', response.text)
    body = re.sub(r'data-csrf="[^"]*"', 'data-csrf=""', body)
    body = body.replace(email, "EMAIL")
    headers = sorted(
        (
            name,
            ""
            if name.lower() in ("set-cookie", "content-length", "date", "x-request-id")
            else value,
        )
        for name, value in response.headerlist
    )
    cookies = sorted(
        (value.split("=", 1)[0], ";".join(sorted(value.split(";")[1:])))
        for name, value in response.headerlist
        if name.lower() == "set-cookie"
    )
    return {"status": response.status, "body": body, "headers": headers, "cookies": cookies}


def dump_database(session) -> str:
    """Every row of every table as text, on SQLite or PostgreSQL, for checking that a
    secret appears nowhere. Binary columns are shown both raw and decoded."""
    from sqlalchemy import inspect, text

    lines = []
    connection = session.connection()
    for table in inspect(connection).get_table_names():
        for row in connection.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
            for value in row:
                if isinstance(value, bytes | memoryview):
                    raw = bytes(value)
                    lines.append(repr(raw))
                    lines.append(raw.decode("latin-1"))
                else:
                    lines.append(str(value))
    return "\n".join(lines)
