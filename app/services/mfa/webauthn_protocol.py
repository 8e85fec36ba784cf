"""The WebAuthn protocol, through Duo Labs' py_webauthn: the options a browser is given
for a ceremony, and the checks of its answer (challenge, origin, relying party, user
presence and verification, signature).

What the library leaves to its caller is here too: refusing a ceremony run in a frame of
another site (crossOrigin). Keeping credentials, single-use challenges and counters is
PasskeyService's part. Everything here raises one of UNREADABLE for an answer that is
malformed or fails a check."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

# How long a browser has to answer a ceremony (the options say so to the browser too).
CEREMONY_SECONDS = 300
# What an answer that cannot be read or fails a check raises: the library's errors, and,
# for some values of the wrong type (a number where base64 was expected), Python's.
UNREADABLE = (WebAuthnException, ValueError, TypeError)


@dataclass(frozen=True)
class RelyingParty:
    """This site, as passkeys know it: app.base_url's host and origin."""

    id: str
    name: str
    origin: str


@dataclass(frozen=True)
class Ceremony:
    """The options for the browser (JSON) and the challenge to keep for the answer."""

    options_json: str
    challenge: bytes


@dataclass(frozen=True)
class NewCredential:
    """A checked answer to a registration ceremony: what to keep of the new passkey."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: str


def read_answer(answer: Any) -> dict[str, Any]:
    """The browser's answer as a dict (it may come as JSON text)."""
    if isinstance(answer, str | bytes):
        try:
            answer = json.loads(answer)
        except ValueError:
            raise WebAuthnException("The answer is not JSON") from None
    if not isinstance(answer, dict):
        raise WebAuthnException("The answer is not a JSON object")
    return answer


def _same_origin_only(client_data_json: bytes) -> None:
    if parse_client_data_json(client_data_json).cross_origin:
        raise WebAuthnException("Ceremony run in a frame of another site")


def registration_options(
    rp: RelyingParty, user_handle: bytes, email: str, existing: list[bytes]
) -> Ceremony:
    """Options for a new passkey that is discoverable (sign-in needs no email) and
    verifies its user; not again on an authenticator that has one of `existing`."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=email,
        user_display_name=email,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=c) for c in existing],
        timeout=CEREMONY_SECONDS * 1000,
    )
    return Ceremony(options_to_json(options), options.challenge)


def check_registration(rp: RelyingParty, answer: Any, challenge: bytes) -> NewCredential:
    credential = parse_registration_credential_json(read_answer(answer))
    _same_origin_only(credential.response.client_data_json)
    verified = verify_registration_response(
        credential=credential,
        expected_challenge=challenge,
        expected_rp_id=rp.id,
        expected_origin=rp.origin,
        require_user_verification=True,
    )
    return NewCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=",".join(t.value for t in credential.response.transports or []),
    )


def authentication_options(
    rp: RelyingParty, allowed: list[tuple[bytes, str]], verify_user: bool
) -> Ceremony:
    """Options to prove who one is with one of `allowed` (credential id, transports), or
    with any passkey of this site if none are given."""
    options = generate_authentication_options(
        rp_id=rp.id,
        allow_credentials=[
            PublicKeyCredentialDescriptor(
                id=credential_id,
                transports=[AuthenticatorTransport(t) for t in transports.split(",") if t],
            )
            for credential_id, transports in allowed
        ],
        user_verification=UserVerificationRequirement.REQUIRED
        if verify_user
        else UserVerificationRequirement.PREFERRED,
        timeout=CEREMONY_SECONDS * 1000,
    )
    return Ceremony(options_to_json(options), options.challenge)


def read_assertion(answer: Any) -> AuthenticationCredential:
    """The answer to an authentication ceremony, parsed: which credential answered
    (raw_id) and for which user (response.user_handle), before anything is verified."""
    assertion = parse_authentication_credential_json(read_answer(answer))
    _same_origin_only(assertion.response.client_data_json)
    return assertion


def check_assertion(
    rp: RelyingParty,
    assertion: AuthenticationCredential,
    challenge: bytes,
    public_key: bytes,
    verify_user: bool,
) -> int:
    """Check the signature and everything it covers; the authenticator's new counter.
    The counter is not compared here: the caller tells a cloned key apart."""
    verified = verify_authentication_response(
        credential=assertion,
        expected_challenge=challenge,
        expected_rp_id=rp.id,
        expected_origin=rp.origin,
        credential_public_key=public_key,
        credential_current_sign_count=0,
        require_user_verification=verify_user,
    )
    return verified.new_sign_count
