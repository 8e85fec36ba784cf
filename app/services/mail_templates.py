"""Renders the emails from Chameleon templates in app/templates/emails/."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from chameleon import PageTemplateLoader

from .outbox import EmailContent

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "emails"


class MailTemplates:
    def __init__(self, site_name: str = "Accounts", auto_reload: bool = False) -> None:
        self.site_name = site_name
        self._loader = PageTemplateLoader(str(TEMPLATES), auto_reload=auto_reload)

    def render(self, name: str, subject: str, **values: Any) -> EmailContent:
        values = {"site_name": self.site_name, "subject": subject, **values}
        text = self._loader.load(f"{name}.txt.pt", format="text")(**values)
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        html = self._loader.load(f"{name}.html.pt")(**values)
        return EmailContent(subject=subject, text=text, html=html)

    def password_reset(self, email: str, link: str, minutes: int) -> EmailContent:
        return self.render(
            "password_reset",
            "Reset your password",
            email=email,
            link=link,
            lifetime=_describe_minutes(minutes),
        )

    def invitation(self, email: str, link: str, minutes: int) -> EmailContent:
        return self.render(
            "invitation",
            "You have been invited: choose your password",
            email=email,
            link=link,
            lifetime=_describe_minutes(minutes),
        )

    def password_changed(self, email: str, when: datetime, ip: str | None) -> EmailContent:
        return self.render(
            "password_changed",
            "Your password was changed",
            email=email,
            when=when.strftime("%Y-%m-%d %H:%M UTC"),
            ip=ip or "an unknown address",
        )


def _describe_minutes(minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} day" + ("s" if days != 1 else "")
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minute" + ("s" if minutes != 1 else "")
