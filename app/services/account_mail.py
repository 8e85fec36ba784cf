"""Every email the app sends about an account, queued in the outbox with the parameters
it is rendered from when it is sent (so that queueing one costs a request little)."""

from __future__ import annotations

from datetime import datetime

from app.models import PURPOSE_INVITE

from .outbox import Outbox


class AccountMail:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def link(
        self, recipient: str, purpose: str, link: str, minutes: int, expires_at: datetime
    ) -> None:
        """The email that carries a one-time link: a reset or an invitation. It is not
        sent once the link has expired (the outbox may have waited for the server)."""
        template = "invitation" if purpose == PURPOSE_INVITE else "password_reset"
        params = {
            "email": recipient,
            "link": link,
            "minutes": minutes,
            "expires": expires_at.isoformat(),
        }
        self.outbox.queue(recipient, template, params)

    def password_changed(self, recipient: str, when: datetime, ip: str | None) -> None:
        """The notice after a reset or a change; it holds no secret."""
        self.outbox.queue(
            recipient,
            "password_changed",
            {"email": recipient, "when": when.isoformat(), "ip": ip},
        )
