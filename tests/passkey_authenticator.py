"""A software authenticator for the functional tests: it plays the browser and the
authenticator, answering the options the app sends with the JSON a browser's
PublicKeyCredential.toJSON() posts back.

It makes ES256 (P-256) keys with "none" attestation, keeps discoverable credentials
with their own signature counters, and can be told to get things wrong (another origin,
another relying party, another challenge, a lower counter). It uses cbor2 and
cryptography, not py_webauthn, so it shares no code with what it tests."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

USER_PRESENT, USER_VERIFIED, ATTESTED_DATA = 0x01, 0x04, 0x40
ES256 = -7


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class NotAllowed(Exception):
    """What the browser would raise as NotAllowedError or InvalidStateError."""


@dataclass
class Credential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: ES256,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def clone(self) -> Credential:
        """The same key with a counter of its own: a copied authenticator."""
        return Credential(
            self.credential_id, self.key, self.rp_id, self.user_handle, self.sign_count
        )


def _as_json(credential: Credential, **response: Any) -> dict[str, Any]:
    """A credential as PublicKeyCredential.toJSON() gives it."""
    return {
        "id": b64url(credential.credential_id),
        "rawId": b64url(credential.credential_id),
        "type": "public-key",
        "authenticatorAttachment": "platform",
        "clientExtensionResults": {},
        "response": response,
    }


@dataclass
class SoftAuthenticator:
    origin: str
    # How much each use moves the counter; 0 is what synced passkeys do.
    counter_step: int = 1
    user_verifying: bool = True
    credentials: dict[bytes, Credential] = field(default_factory=dict)

    def _client_data(self, kind: str, challenge: str, origin: str | None, cross: bool) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": cross,
            },
            separators=(",", ":"),
        ).encode()

    def _flags(self, attested: bool = False) -> bytes:
        flags = USER_PRESENT | (USER_VERIFIED if self.user_verifying else 0)
        return bytes([flags | (ATTESTED_DATA if attested else 0)])

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: bytes | None = None,
        cross_origin: bool = False,
        sign_count: int = 0,
    ) -> dict[str, Any]:
        """navigator.credentials.create(): a new credential, as toJSON() sends it (with
        its counter at `sign_count`: some keys count uses across sites)."""
        rp = rp_id or options["rp"]["id"]
        for excluded in options.get("excludeCredentials") or []:
            if from_b64url(excluded["id"]) in self.credentials:
                raise NotAllowed("InvalidStateError: this authenticator has one already")
        credential = Credential(
            os.urandom(32),
            ec.generate_private_key(ec.SECP256R1()),
            rp,
            from_b64url(options["user"]["id"]),
            sign_count,
        )
        client_data = self._client_data(
            "webauthn.create",
            b64url(challenge) if challenge else options["challenge"],
            origin,
            cross_origin,
        )
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + self._flags(attested=True)
            + struct.pack(">I", sign_count)
            + bytes(16)
            + struct.pack(">H", len(credential.credential_id))
            + credential.credential_id
            + credential.cose_public_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        self.credentials[credential.credential_id] = credential
        return _as_json(
            credential,
            clientDataJSON=b64url(client_data),
            attestationObject=b64url(attestation),
            transports=["internal"],
        )

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: Credential | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: bytes | None = None,
        sign_count: int | None = None,
        cross_origin: bool = False,
    ) -> dict[str, Any]:
        """navigator.credentials.get(): an assertion by one of the allowed credentials
        (or, if none are named, the first this authenticator has for the site)."""
        rp = options["rpId"]
        if credential is None:
            allowed = [from_b64url(c["id"]) for c in options.get("allowCredentials") or []]
            candidates = [
                c
                for c in self.credentials.values()
                if c.rp_id == rp and (not allowed or c.credential_id in allowed)
            ]
            if not candidates:
                raise NotAllowed("NotAllowedError: no passkey for this site")
            credential = candidates[0]
        credential.sign_count = (
            credential.sign_count + self.counter_step if sign_count is None else sign_count
        )
        client_data = self._client_data(
            "webauthn.get",
            b64url(challenge) if challenge else options["challenge"],
            origin,
            cross_origin,
        )
        auth_data = (
            hashlib.sha256((rp_id or rp).encode()).digest()
            + self._flags()
            + struct.pack(">I", credential.sign_count)
        )
        signature = credential.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return _as_json(
            credential,
            clientDataJSON=b64url(client_data),
            authenticatorData=b64url(auth_data),
            signature=b64url(signature),
            userHandle=b64url(credential.user_handle),
        )
