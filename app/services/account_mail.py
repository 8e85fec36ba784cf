"""Every email the app sends about an account, rendered and queued in the outbox."""

from __future__ import annotations

from datetime import datetime

from app.models import PURPOSE_INVITE

from .mail_templates import MailTemplates
from .outbox import Outbox


class AccountMail:
    def __init__(self, outbox: Outbox, templates: MailTemplates) -> None:
        self.outbox = outbox
        self.templates = templates

    def link(self, recipient: str, purpose: str, link: str, minutes: int) -> None:
        """The email that carries a one-time link: a reset or an invitation."""
        if purpose == PURPOSE_INVITE:
            content = self.templates.invitation(recipient, link, minutes)
        else:
            content = self.templates.password_reset(recipient, link, minutes)
        self.outbox.queue(recipient, content)

    def password_changed(self, recipient: str, when: datetime, ip: str | None) -> None:
        """The notice after a reset or a change; it holds no secret."""
        self.outbox.queue(recipient, self.templates.password_changed(recipient, when, ip))
