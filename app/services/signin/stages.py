"""What a sign-in passes through, as typed values: the factors given, the sign-in
waiting for its second factor (sealed between two requests), and what each step of
the flow (flow.py) answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from app.models import Account, LoginSession
from app.models.login_sessions import APP_SESSION, BROWSER_SESSION

# How long the second step may wait after the first.
PENDING_LIFETIME = timedelta(minutes=5)
# The shape of the sealed PendingSignIn; a value of another version is not read.
PENDING_VERSION = 3


class Factor(StrEnum):
    """What a person proved at sign-in, as the login session records it."""

    PASSWORD = "password"  # noqa: S105 (the factor's name, not a password)
    TOTP = "totp"
    RECOVERY_CODE = "recovery"
    PASSKEY = "passkey"
    # An account at another provider linked to this one (app/services/upstream/).
    UPSTREAM = "upstream"
    # The same, from a provider trusted to say that its own sign-in used two factors
    # (signin.provider.NAME.trust_amr): worth both.
    UPSTREAM_MFA = "upstream_mfa"
    # A code emailed to the account's address (app/services/signin/email_codes.py).
    EMAIL_CODE = "email_code"


# RFC 8176's names for each factor, for the identity provider's `amr`.
AMR = {
    Factor.PASSWORD: "pwd",
    Factor.TOTP: "otp",
    Factor.RECOVERY_CODE: "otp",
    Factor.PASSKEY: "hwk",
    Factor.UPSTREAM: "fed",
    Factor.UPSTREAM_MFA: "fed",
    Factor.EMAIL_CODE: "otp",
}

# A factor that is two in one: a passkey verified its user; a trusted provider said so.
BOTH_FACTORS = frozenset({Factor.PASSKEY, Factor.UPSTREAM_MFA})


@dataclass(frozen=True)
class SignInMethod:
    """The factors of one sign-in, in the order they were given. A passkey that
    verified its user is two factors in one (something held, and a PIN or a body)."""

    factors: tuple[Factor, ...]

    @property
    def label(self) -> str:
        """How login_sessions.sign_in_method and the audit trail name it."""
        return "+".join(self.factors)

    @classmethod
    def parse(cls, label: str | None) -> SignInMethod:
        known = {factor.value for factor in Factor}
        return cls(tuple(Factor(part) for part in (label or "").split("+") if part in known))

    @property
    def is_multi_factor(self) -> bool:
        return len(self.factors) > 1 or any(factor in BOTH_FACTORS for factor in self.factors)

    @property
    def amr(self) -> list[str]:
        names = list(dict.fromkeys(AMR[factor] for factor in self.factors))
        return [*names, "mfa"] if self.is_multi_factor else names

    @property
    def acr(self) -> str:
        return "mfa" if self.is_multi_factor else "pwd"


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in whose first factor passed, waiting for its second: whose, tied to the
    password that was checked (a reset or a change since voids it), which factors the
    next step offers, and what the face asked to do afterwards."""

    account_id: int
    password_fingerprint: str
    started_at: datetime
    use_code: bool
    use_passkey: bool
    came_from: str = "/account"
    remember: bool = False
    # The kind of session the sign-in will start (a browser's, or an application's).
    kind: str = BROWSER_SESSION
    # How many sign-ins the account had counted when the first factor passed: once
    # another completes (this one included), the pending sign-in is spent.
    sign_ins: int = 0
    # What passed first: the password, or a linked account at another provider.
    first: Factor = Factor.PASSWORD

    def seal(self, fernet: Fernet) -> str:
        """The one writer: this sign-in as an encrypted, versioned token."""
        payload = {
            "v": PENDING_VERSION,
            "account": self.account_id,
            "fingerprint": self.password_fingerprint,
            "started": self.started_at.timestamp(),
            "code": self.use_code,
            "passkey": self.use_passkey,
            "next": self.came_from,
            "remember": self.remember,
            "kind": self.kind,
            "count": self.sign_ins,
            "first": self.first.value,
        }
        return fernet.encrypt(json.dumps(payload).encode()).decode()

    @classmethod
    def unseal(cls, fernet: Fernet, token: Any, now: datetime) -> PendingSignIn | None:
        """The one reader: the sign-in sealed in `token`, or None if there is none, it
        was not made here, is of another version, or is older than its lifetime."""
        try:
            # Its age is read from the sealed start, by the flow's clock, below.
            payload = json.loads(fernet.decrypt(token))
            if payload.get("v") != PENDING_VERSION:
                return None
            pending = cls(
                account_id=int(payload["account"]),
                password_fingerprint=str(payload["fingerprint"]),
                started_at=datetime.fromtimestamp(float(payload["started"]), now.tzinfo),
                use_code=bool(payload["code"]),
                use_passkey=bool(payload["passkey"]),
                came_from=str(payload["next"]),
                remember=bool(payload["remember"]),
                kind=str(payload["kind"]),
                sign_ins=int(payload["count"]),
                first=Factor(payload.get("first", Factor.PASSWORD)),
            )
        except (InvalidToken, UnicodeError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if now - pending.started_at > PENDING_LIFETIME:
            return None
        return pending


@dataclass(frozen=True)
class SecondFactorNeeded:
    """The next stage: a second factor, of the kinds the pending sign-in offers."""

    pending: PendingSignIn
    token: str


@dataclass(frozen=True)
class AddressUnconfirmed:
    """The right first factor on an account whose address is not confirmed yet: no
    session; a new confirmation link went out if the hourly limit allowed."""

    account: Account
    link_sent: bool


@dataclass(frozen=True)
class SignedIn:
    """The end of the flow: a new server-side session, and what the face hands the
    browser or the client (the session token, the device token)."""

    account: Account
    method: SignInMethod
    session_token: str
    login_session: LoginSession
    device_token: str
    came_from: str
    remember: bool

    @property
    def for_an_application(self) -> bool:
        """An application's session (the JSON API's app mode): its token goes to the
        application, never in a cookie."""
        return self.login_session.kind == APP_SESSION

    @property
    def password_change_required(self) -> bool:
        """The password is known from a breach: it is changed before anything else."""
        return self.account.password_breached_at is not None


Step = SecondFactorNeeded | AddressUnconfirmed | SignedIn
