"""Passkeys (WebAuthn, with Duo Labs' py_webauthn): adding one, and proving who one is
with it, without a password or as the second factor after one.

The relying party and the origin are those of app.base_url, so a passkey answers only
this site. Each ceremony's challenge is random, kept by the caller for that browser
alone, used once and for a few minutes. A passkey made for sign-in without a password
is discoverable (the sign-in page needs no email) and verifies its user (a PIN or a
fingerprint), so it counts as two factors. A signature counter that goes backwards is
refused and recorded: the key may have been copied."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, NoReturn

from sqlalchemy import delete, select, update

from app.models import Account, RecoveryCode, SpentChallenge, WebAuthnCredential
from app.services.kernel import audit as events
from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.errors import PasskeyRefused
from app.services.kernel.statements import insert_unless_present, rows_changed
from app.services.mfa import webauthn_protocol as webauthn
from app.services.mfa.webauthn_protocol import UNREADABLE, Ceremony, RelyingParty
from app.services.notices.account_mail import AccountMail
from app.translation import _

MAX_NAME_LENGTH = 100
USER_HANDLE_BYTES = 32


class PasskeyService(ContextService):
    def __init__(self, context: ServiceContext, rp: RelyingParty, mail: AccountMail) -> None:
        super().__init__(context)
        self.rp = rp
        self.mail = mail

    # What the account has

    def for_account(self, account_id: int) -> list[WebAuthnCredential]:
        return list(
            self.dbsession.scalars(
                select(WebAuthnCredential)
                .where(WebAuthnCredential.account_id == account_id)
                .order_by(WebAuthnCredential.created_at, WebAuthnCredential.id)
            )
        )

    def has_passkeys(self, account: Account) -> bool:
        found = self.dbsession.scalar(
            select(WebAuthnCredential.id).where(WebAuthnCredential.account_id == account.id)
        )
        return found is not None

    # Adding a passkey

    def registration_ceremony(self, account: Account) -> Ceremony:
        if account.webauthn_user_handle is None:
            account.webauthn_user_handle = secrets.token_bytes(USER_HANDLE_BYTES)
            self.dbsession.flush()
        existing = [c.credential_id for c in self.for_account(account.id)]
        return webauthn.registration_options(
            self.rp, account.webauthn_user_handle, account.email, existing
        )

    def add(
        self, account: Account, answer: Any, challenge: bytes | None, name: str
    ) -> WebAuthnCredential:
        """Verify the browser's answer to a registration ceremony and keep the passkey.
        `challenge` is the one this browser was given (None if it has none left)."""
        challenge = self._spend(challenge, account.id)
        try:
            new = webauthn.check_registration(self.rp, answer, challenge)
        except UNREADABLE as exc:
            self._refused(account.id, exc)
        values = {
            "account_id": account.id,
            "credential_id": new.credential_id,
            "public_key": new.public_key,
            "sign_count": new.sign_count,
            "transports": new.transports,
            "name": self.clean_name(name) or f"Passkey {len(self.for_account(account.id)) + 1}",
            "created_at": self.clock.now(),
        }
        # A credential id is kept once: one already kept (for this account or another)
        # is refused like any other unusable answer, so that the refusal does not tell
        # whether another account holds it, and the transaction stays usable
        # (docs/security.md 58).
        passkey_id = insert_unless_present(
            self.dbsession, WebAuthnCredential, values, [WebAuthnCredential.credential_id]
        )
        if passkey_id is None:
            self._refused(account.id, ValueError("the credential id was not accepted"))
        passkey = self.dbsession.get_one(WebAuthnCredential, passkey_id)
        self.audit.record(events.PASSKEY_ADDED, account.id, name=passkey.name)
        self.mail.passkey_changed(account.email, "added", passkey.name, self.clock.now())
        return passkey

    # Signing in with one

    def authentication_ceremony(
        self, account: Account | None = None, verify_user: bool = True
    ) -> Ceremony:
        """Without an account: any passkey of this site (the sign-in without a password).
        With one: that account's passkeys (its second factor, or re-authentication).
        With verify_user, the passkey must check its user (a PIN, a fingerprint)."""
        allowed = []
        if account is not None:
            allowed = [(c.credential_id, c.transports) for c in self.for_account(account.id)]
        return webauthn.authentication_options(self.rp, allowed, verify_user)

    def verify(
        self,
        answer: Any,
        challenge: bytes | None,
        account: Account | None = None,
        *,
        require_user_verification: bool,
    ) -> WebAuthnCredential:
        """The passkey that answered, if the answer is valid for this challenge, this
        site and (if given) this account; else PasskeyRefused, recorded. Each caller says
        whether the passkey must have verified its user."""
        account_id = account.id if account else None
        challenge = self._spend(challenge, account_id)
        try:
            assertion = webauthn.read_assertion(answer)
        except UNREADABLE as exc:
            self._refused(account_id, exc)
        passkey = self.dbsession.scalars(
            select(WebAuthnCredential).where(WebAuthnCredential.credential_id == assertion.raw_id)
        ).first()
        if passkey is None or (account is not None and passkey.account_id != account.id):
            self.audit.record(events.PASSKEY_REFUSED, account_id, reason="unknown passkey")
            raise PasskeyRefused(
                _("This passkey is not known here. It may have been removed."),
                code="passkey_unknown",
            )
        owner = self.dbsession.get(Account, passkey.account_id)
        assert owner is not None
        # A passkey found without an account named must say whose it is, and the
        # account it names must be the one it was added to.
        handle = assertion.response.user_handle
        if (handle is None and account is None) or (
            handle is not None and handle != owner.webauthn_user_handle
        ):
            self.audit.record(events.PASSKEY_REFUSED, owner.id, reason="user handle")
            raise PasskeyRefused(
                _("This passkey does not belong to this account."),
                code="passkey_of_another_account",
            )
        stored = passkey.sign_count
        try:
            new = webauthn.check_assertion(
                self.rp, assertion, challenge, passkey.public_key, require_user_verification
            )
        except UNREADABLE as exc:
            self._refused(owner.id, exc)
        self._count(passkey, stored, new)
        return passkey

    def _spend(self, challenge: bytes | None, account_id: int | None) -> bytes:
        """Mark the challenge answered, or refuse it if it already was (an old session
        cookie sent again) or the browser has none (expired, or already answered)."""
        if challenge is None:
            self.audit.record(events.PASSKEY_REFUSED, account_id, reason="no challenge")
            raise PasskeyRefused(
                _("The passkey request has expired. Try again."), code="passkey_request_expired"
            )
        digest = hashlib.sha256(challenge).hexdigest()
        spent = insert_unless_present(
            self.dbsession,
            SpentChallenge,
            {"challenge_hash": digest, "spent_at": self.clock.now()},
            [SpentChallenge.challenge_hash],
            returning=SpentChallenge.challenge_hash,
        )
        if spent is None:
            self.audit.record(events.PASSKEY_REFUSED, account_id, reason="challenge replayed")
            raise PasskeyRefused(
                _("The passkey request was already answered. Try again."),
                code="passkey_request_answered",
            )
        return challenge

    def _count(self, passkey: WebAuthnCredential, stored: int, new: int) -> None:
        """Keep the authenticator's new counter, which must have moved forward (unless it
        keeps none: synced passkeys always say 0). One conditional UPDATE, so two uses
        of one answer cannot both pass."""
        if (new or stored) and new <= stored:
            self.audit.record(events.PASSKEY_CLONE_SUSPECTED, passkey.account_id, name=passkey.name)
            raise PasskeyRefused(
                _(
                    "This passkey's counter went backwards, so it may have been copied; it was"
                    " refused. If it is yours, remove it and add it again."
                ),
                code="passkey_copied",
            )
        changed = rows_changed(
            self.dbsession,
            update(WebAuthnCredential)
            .where(WebAuthnCredential.id == passkey.id, WebAuthnCredential.sign_count == stored)
            .values(sign_count=new, last_used_at=self.clock.now())
            .execution_options(synchronize_session=False),
        )
        self.dbsession.expire(passkey, ["sign_count", "last_used_at"])
        if changed != 1:
            raise PasskeyRefused(
                _("This passkey was just used. Try again."), code="passkey_just_used"
            )

    def _refused(self, account_id: int | None, exc: Exception) -> NoReturn:
        # The library's message says which check failed (origin, challenge, ...), and
        # holds no secret.
        self.audit.record(events.PASSKEY_REFUSED, account_id, reason=str(exc)[:200])
        raise PasskeyRefused() from exc

    # Managing them

    @staticmethod
    def clean_name(name: str) -> str:
        return " ".join("".join(ch for ch in name if ch.isprintable()).split())[:MAX_NAME_LENGTH]

    def find(self, account: Account, passkey_id: int) -> WebAuthnCredential | None:
        return self.dbsession.scalars(
            select(WebAuthnCredential).where(
                WebAuthnCredential.id == passkey_id, WebAuthnCredential.account_id == account.id
            )
        ).first()

    def rename(self, passkey: WebAuthnCredential, name: str) -> None:
        cleaned = self.clean_name(name)
        if not cleaned:
            raise PasskeyRefused(_("Give the passkey a name."), code="passkey_name_missing")
        passkey.name = cleaned
        self.dbsession.flush()

    def remove(
        self, account: Account, passkey: WebAuthnCredential, by_admin_id: int | None = None
    ) -> None:
        """Remove a passkey: it stops working at once. The owner is told. With the last
        second factor go the recovery codes that stood in for it."""
        self.dbsession.execute(
            delete(WebAuthnCredential).where(WebAuthnCredential.id == passkey.id)
        )
        if account.totp_secret is None and not self.has_passkeys(account):
            self.dbsession.execute(
                delete(RecoveryCode).where(RecoveryCode.account_id == account.id)
            )
        self.audit.record(
            events.PASSKEY_REMOVED, account.id, actor_id=by_admin_id, name=passkey.name
        )
        if by_admin_id is None:
            # An administrator's removal is told in one email of its own (account_admin.py).
            self.mail.passkey_changed(account.email, "removed", passkey.name, self.clock.now())

    def remove_all(self, account: Account, by_admin_id: int | None = None) -> int:
        passkeys = self.for_account(account.id)
        for passkey in passkeys:
            self.remove(account, passkey, by_admin_id)
        return len(passkeys)
