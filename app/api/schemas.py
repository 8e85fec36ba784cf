"""The JSON API's request and answer schemas, in one place: each model validates what
comes in (app/api/json_bodies.py) and describes itself in the OpenAPI document
(app/api/openapi.py). Requests refuse fields they do not know; answers say only what is
listed here, never a hash, a secret or an internal flag."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.services.passwords.hashing import MAX_PASSWORD_LENGTH

# Field bounds, checked before any work: the services apply their own rules after.
Email = Annotated[str, Field(min_length=1, max_length=320, examples=["ada@example.com"])]
# The password policy's own limit is checked by the services, with its own message;
# this bound only keeps megabyte values out (four bytes a character at most).
Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH * 4)]
# The code of an emailed link, as the link carries it.
Key = Annotated[str, Field(min_length=1, max_length=200)]
# A second-factor code: 6 digits from an authenticator app, or a recovery code.
Code = Annotated[str, Field(min_length=1, max_length=64, examples=["123456"])]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Errors


class Error(Answer):
    code: str = Field(description="Stable, for programs: see the list in the description.")
    message: str = Field(description="For people, in the request's language.")
    field: str | None = Field(description="The request field it concerns, if one.")


class Errors(Answer):
    errors: list[Error]


class SecondFactorRequired(Errors):
    """The password was right and the account has a second factor: send it to POST
    /api/v1/session/second_factor within 5 minutes, in app mode with the pending token
    as `Authorization: Bearer` (in browser mode the session keeps it: null here)."""

    pending_token: str | None
    factors: list[Literal["totp", "recovery_code", "passkey"]]


# The account and its sessions


class AccountExport(Answer):
    """Everything held about the account (docs/security.md 72): the same document as the
    file /account/export gives, with no hash, token, secret or code."""

    version: int
    exported_at: datetime
    account: dict[str, Any]
    second_factors: dict[str, Any]
    passkeys: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    browsers: list[dict[str, Any]]
    connected_applications: list[dict[str, Any]]
    other_providers: list[dict[str, Any]]
    events: list[dict[str, Any]]


class AccountInfo(Answer):
    id: str = Field(description="The account's public id (the `sub` of OpenID Connect).")
    email: str
    display_name: str | None = Field(
        description="The name the owner gave, if any (text: escape it where it is shown)."
    )
    email_confirmed_at: datetime | None
    created_at: datetime
    is_admin: bool
    locale: str | None
    two_factor: bool = Field(description="An authenticator app or a passkey is on.")
    authenticator_app: bool
    passkeys: int
    recovery_codes_left: int
    password_change_required: bool = Field(
        description="The password is known from a breach: only POST /password/change works."
    )


class CurrentSession(Answer):
    id: int
    kind: Literal["browser", "app"]
    created_at: datetime
    authenticated_at: datetime
    sign_in_method: str | None
    recently_authenticated: bool = Field(
        description="Sensitive operations work without POST /reauthenticate first."
    )


class SessionState(Answer):
    signed_in: bool
    csrf_token: str | None = Field(
        description="Browser mode: send it as X-CSRF-Token with every unsafe method."
    )
    account: AccountInfo | None
    session: CurrentSession | None


class SignInRequest(Request):
    email: Email
    password: Password
    remember: bool = Field(
        default=False, description="Browser mode: keep the cookie after the browser closes."
    )


class SecondFactorRequest(Request):
    code: Code


class SignedIn(Answer):
    session_token: str | None = Field(
        description="App mode: send it as `Authorization: Bearer`. Null in browser mode,"
        " where the session is a cookie."
    )
    csrf_token: str | None = Field(
        description="Browser mode: the session's new CSRF token (the one before no longer"
        " works). Null in app mode."
    )
    account: AccountInfo


# Registration, confirmation, passwords


class Registration(Request):
    email: Email
    password: Password
    display_name: Annotated[str, Field(max_length=200)] = Field(
        default="", description="Optional; at most 80 characters once spaces are collapsed."
    )


class Confirmation(Request):
    key: Key
    password: Password


class ForgotPassword(Request):
    email: Email


class PasswordReset(Request):
    key: Key
    password: Password


class Accepted(Answer):
    message: str


class Deletion(Answer):
    """The account is deleted: erased at `erase_at`, unless the emailed restore link
    brings it back first; null when it was erased at once (no grace period)."""

    message: str
    erase_at: datetime | None


class Done(Answer):
    message: str


class PasswordChanged(Done):
    csrf_token: str | None = Field(
        description="Browser mode: the session's new CSRF token. Null in app mode."
    )


# The signed-in account


class PasswordChange(Request):
    current_password: Password
    password: Password


class EmailChange(Request):
    current_password: Password
    email: Email


class Reauthentication(Request):
    password: Password
    code: Code | None = Field(
        default=None, description="Required when the account has a second factor."
    )


class Device(Answer):
    id: int
    kind: Literal["browser", "app"]
    description: str = Field(description="The browser and system, read from its user agent.")
    ip: str | None
    signed_in_at: datetime
    last_seen_at: datetime
    current: bool = Field(description="The session of this request.")


class Devices(Answer):
    sessions: list[Device]


class Event(Answer):
    kind: str
    description: str
    created_at: datetime
    ip: str | None
    device: str
    outcome: Literal["ok", "failed"]


class Activity(Answer):
    events: list[Event]
    page: int
    pages: int
    total: int


# Second factors


class TotpSetup(Answer):
    """A new secret for the authenticator app: show it (or its URI as a QR code), then
    send it back with a code the app made, to PUT /api/v1/two_factor/totp."""

    secret: str
    otpauth_uri: str


class TotpConfirmation(Request):
    # pyotp's secrets: 32 base32 characters (160 bits).
    secret: Annotated[str, Field(pattern=r"^[A-Z2-7]{32}$")]
    code: Code


class RecoveryCodes(Answer):
    """Shown once: each code signs in once in place of the second factor."""

    recovery_codes: list[str]


class Passkey(Answer):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


class Passkeys(Answer):
    passkeys: list[Passkey]


class PasskeyRename(Request):
    name: Annotated[str, Field(min_length=1, max_length=100)]


# Passkey ceremonies: the options for navigator.credentials, then the browser's answer.


class PasskeyOptions(Answer):
    """Pass `options` to navigator.credentials.create() or .get() (as
    PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON
    read them), then send the credential's toJSON() with the ceremony token, within 5
    minutes. Each token is answered once."""

    options: dict[str, Any]
    ceremony_token: str


class PasskeyAnswer(Request):
    ceremony_token: Annotated[str, Field(min_length=1, max_length=2000)]
    credential: dict[str, Any] = Field(description="The credential's toJSON().")


class PasskeySignIn(PasskeyAnswer):
    remember: bool = False


class NewPasskey(PasskeyAnswer):
    name: Annotated[str, Field(max_length=100)] = ""
