"""Every email the app sends about an account, queued in the outbox with the parameters
it is rendered from when it is sent (so that queueing one costs a request little)."""

from __future__ import annotations

from datetime import datetime

from app.models import (
    PURPOSE_CHANGE_EMAIL,
    PURPOSE_INVITE,
    PURPOSE_RESET,
    PURPOSE_RESTORE,
    PURPOSE_VERIFY_EMAIL,
)
from app.services.notices.outbox import Outbox
from app.services.sessions.user_agents import MAX_LENGTH as MAX_USER_AGENT

# The email that carries each kind of one-time link.
LINK_EMAILS = {
    PURPOSE_RESET: "password_reset",
    PURPOSE_INVITE: "invitation",
    PURPOSE_VERIFY_EMAIL: "verify_email",
    PURPOSE_CHANGE_EMAIL: "confirm_new_email",
    PURPOSE_RESTORE: "deletion_scheduled",
}


def masked(email: str) -> str:
    """An address as it may be shown to someone else: a***@example.org."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


class AccountMail:
    def __init__(self, outbox: Outbox, site_url: str, contact: str) -> None:
        self.outbox = outbox
        # app.base_url, for the links an email gives to the site's own pages.
        self.site_url = site_url
        # Whom the owner of a disabled account should ask (accounts.support_contact).
        self.contact = contact

    def link(
        self,
        recipient: str,
        purpose: str,
        link: str,
        minutes: int,
        expires_at: datetime,
        password_voided: bool = False,
    ) -> None:
        """The email that carries a one-time link. It is not sent once the link has
        expired (the outbox may have waited for the server). A reset link sent after the
        password was voided says that the old one no longer works."""
        template = LINK_EMAILS[purpose]
        params: dict[str, object] = {
            "email": recipient,
            "link": link,
            "minutes": minutes,
            "expires": expires_at.isoformat(),
        }
        if password_voided:
            params["password_voided"] = True
        self.outbox.queue(recipient, template, params)

    def new_device(
        self,
        recipient: str,
        when: datetime,
        user_agent: str | None,
        ip: str | None,
        not_me_link: str,
        expires_at: datetime,
    ) -> None:
        """A sign-in from a browser the account had not seen, with the link to say it
        was not the owner."""
        self.outbox.queue(
            recipient,
            "new_device",
            {
                "email": recipient,
                "when": when.isoformat(),
                # Described when the email is written, in the recipient's language.
                "user_agent": user_agent[:MAX_USER_AGENT] if user_agent else user_agent,
                "ip": ip,
                "link": not_me_link,
                "expires": expires_at.isoformat(),
                "site": self.site_url,
            },
        )

    def password_changed(self, recipient: str, when: datetime, ip: str | None) -> None:
        """The notice after a reset or a change; it holds no secret."""
        self.outbox.queue(
            recipient,
            "password_changed",
            {"email": recipient, "when": when.isoformat(), "ip": ip},
        )

    def account_disabled(self, recipient: str) -> None:
        """A reset was asked for a disabled account: no link, but the reason, and whom
        to contact."""
        self.outbox.queue(
            recipient, "account_disabled", {"email": recipient, "contact": self.contact}
        )

    def account_erased(self, recipient: str, by_administrator: bool) -> None:
        """The goodbye: the account and what was held about it are gone (by its owner's
        wish, or an administrator's). Its outbox row is deleted once it is sent."""
        self.outbox.queue(
            recipient,
            "account_erased",
            {"email": recipient, "by_administrator": by_administrator, "contact": self.contact},
        )

    def sign_in_code(self, recipient: str, code: str, minutes: int, expires_at: datetime) -> None:
        """A code to sign in with, typed into the browser that asked; not sent once it
        has expired."""
        self.outbox.queue(
            recipient,
            "sign_in_code",
            {
                "email": recipient,
                "code": code,
                "minutes": minutes,
                "expires": expires_at.isoformat(),
            },
        )

    def registration_attempt(self, recipient: str) -> None:
        """Someone tried to register an address that has an account: its owner is told,
        with the ways in, and the page says the same as for a new address."""
        self.outbox.queue(
            recipient, "registration_attempt", {"email": recipient, "site": self.site_url}
        )

    def address_in_use(self, recipient: str) -> None:
        """Someone asked to move an account to an address that has one already."""
        self.outbox.queue(recipient, "address_in_use", {"email": recipient, "site": self.site_url})

    def email_changed(
        self, old_address: str, new_address: str, when: datetime, undo_link: str
    ) -> None:
        """The old address is told that the account moved, without the new one in full,
        with the link that undoes the change."""
        self.outbox.queue(
            old_address,
            "email_changed",
            {
                "email": old_address,
                "new_email": masked(new_address),
                "when": when.isoformat(),
                "link": undo_link,
            },
        )

    def second_factor_changed(self, recipient: str, change: str, when: datetime) -> None:
        """Two-factor sign-in was turned on or off ("added" or "removed")."""
        self.outbox.queue(
            recipient,
            f"second_factor_{change}",
            {"email": recipient, "when": when.isoformat(), "site": self.site_url},
        )

    def second_factors_removed_by_admin(
        self, recipient: str, authenticator_app: bool, passkeys: list[str], when: datetime
    ) -> None:
        """An administrator turned the account's second factors off (for an owner who
        lost them): what went, and whom to ask if the owner did not ask for it."""
        self.outbox.queue(
            recipient,
            "second_factors_removed_by_admin",
            {
                "email": recipient,
                "when": when.isoformat(),
                "authenticator_app": authenticator_app,
                "passkeys": passkeys,
                "contact": self.contact,
                "site": self.site_url,
            },
        )

    def recovery_code_used(self, recipient: str, left: int, when: datetime) -> None:
        self.outbox.queue(
            recipient,
            "recovery_code_used",
            {"email": recipient, "left": left, "when": when.isoformat(), "site": self.site_url},
        )

    def recovery_codes_renewed(self, recipient: str, when: datetime) -> None:
        self.outbox.queue(
            recipient,
            "recovery_codes_renewed",
            {"email": recipient, "when": when.isoformat(), "site": self.site_url},
        )

    def passkey_changed(self, recipient: str, change: str, name: str, when: datetime) -> None:
        """A passkey was "added" to the account or "removed" from it."""
        self.outbox.queue(
            recipient,
            f"passkey_{change}",
            {"email": recipient, "name": name, "when": when.isoformat(), "site": self.site_url},
        )

    def upstream_changed(self, recipient: str, change: str, provider: str, when: datetime) -> None:
        """An account at another provider was "linked" to the account or "unlinked"."""
        self.outbox.queue(
            recipient,
            f"upstream_{change}",
            {"email": recipient, "name": provider, "when": when.isoformat(), "site": self.site_url},
        )

    def role_changed(self, recipient: str, is_admin: bool, when: datetime) -> None:
        """An administrator made the account an administrator, or took the role back."""
        self.outbox.queue(
            recipient,
            "role_granted" if is_admin else "role_revoked",
            {"email": recipient, "when": when.isoformat(), "site": self.site_url},
        )
