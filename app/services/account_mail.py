"""Every email the app sends about an account, queued in the outbox with the parameters
it is rendered from when it is sent (so that queueing one costs a request little)."""

from __future__ import annotations

from datetime import datetime

from app.models import PURPOSE_INVITE

from .outbox import Outbox


class AccountMail:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def link(self, recipient: str, purpose: str, link: str, minutes: int) -> None:
        """The email that carries a one-time link: a reset or an invitation."""
        template = "invitation" if purpose == PURPOSE_INVITE else "password_reset"
        self.outbox.queue(
            recipient, template, {"email": recipient, "link": link, "minutes": minutes}
        )

    def password_changed(self, recipient: str, when: datetime, ip: str | None) -> None:
        """The notice after a reset or a change; it holds no secret."""
        self.outbox.queue(
            recipient,
            "password_changed",
            {"email": recipient, "when": when.isoformat(), "ip": ip},
        )
