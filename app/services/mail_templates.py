"""The emails: each one's subject and Chameleon templates in app/templates/emails/,
rendered from the parameters it was queued with (plain JSON values)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from chameleon import PageTemplateLoader

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "emails"


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


class UnknownEmail(LookupError):
    """A queued message names an email this version does not know."""


def describe_minutes(minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} day" + ("s" if days != 1 else "")
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minute" + ("s" if minutes != 1 else "")


def _link(params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "email": params["email"],
        "link": params["link"],
        "lifetime": describe_minutes(int(params["minutes"])),
    }


def _changed(params: Mapping[str, Any]) -> dict[str, Any]:
    when = datetime.fromisoformat(params["when"])
    return {
        "email": params["email"],
        "when": when.strftime("%Y-%m-%d %H:%M UTC"),
        "ip": params.get("ip") or "an unknown address",
    }


def _disabled(params: Mapping[str, Any]) -> dict[str, Any]:
    return {"email": params["email"], "contact": params["contact"]}


def _site(params: Mapping[str, Any]) -> dict[str, Any]:
    return {"email": params["email"], "site": params["site"]}


def _moved(params: Mapping[str, Any]) -> dict[str, Any]:
    when = datetime.fromisoformat(params["when"])
    return {
        "email": params["email"],
        "new_email": params["new_email"],
        "when": when.strftime("%Y-%m-%d %H:%M UTC"),
    }


def _new_device(params: Mapping[str, Any]) -> dict[str, Any]:
    when = datetime.fromisoformat(params["when"])
    return {
        "email": params["email"],
        "when": when.strftime("%Y-%m-%d %H:%M UTC"),
        "device": params["device"],
        "ip": params.get("ip") or "an unknown address",
        "link": params["link"],
        "site": params["site"],
    }


def _security(params: Mapping[str, Any]) -> dict[str, Any]:
    when = datetime.fromisoformat(params["when"])
    return {
        "email": params["email"],
        "site": params["site"],
        "when": when.strftime("%Y-%m-%d %H:%M UTC"),
        "left": params.get("left"),
        "name": params.get("name"),
    }


# Each email: its subject, and how its queued parameters become the template's values.
EMAILS: dict[str, tuple[str, Callable[[Mapping[str, Any]], dict[str, Any]]]] = {
    "password_reset": ("Reset your password", _link),
    "invitation": ("You have been invited: choose your password", _link),
    "password_changed": ("Your password was changed", _changed),
    "verify_email": ("Confirm your email address", _link),
    "registration_attempt": ("Someone tried to register with your address", _site),
    "confirm_new_email": ("Confirm your new email address", _link),
    "address_in_use": ("Someone tried to use your address", _site),
    "email_changed": ("Your email address was changed", _moved),
    "second_factor_added": ("Two-factor sign-in is on", _security),
    "second_factor_removed": ("Two-factor sign-in was turned off", _security),
    "recovery_code_used": ("A recovery code was used", _security),
    "recovery_codes_renewed": ("New recovery codes were made", _security),
    "passkey_added": ("A passkey was added to your account", _security),
    "passkey_removed": ("A passkey was removed from your account", _security),
    "new_device": ("A new sign-in to your account", _new_device),
    "account_disabled": ("Your account is disabled", _disabled),
}


class MailTemplates:
    def __init__(self, site_name: str = "Accounts", auto_reload: bool = False) -> None:
        self.site_name = site_name
        self._loader = PageTemplateLoader(str(TEMPLATES), auto_reload=auto_reload)

    def render(self, template: str, params: Mapping[str, Any]) -> EmailContent:
        """The email `template`, filled in from the parameters it was queued with."""
        if template not in EMAILS:
            raise UnknownEmail(template)
        subject, prepare = EMAILS[template]
        values = {"site_name": self.site_name, "subject": subject, **prepare(params)}
        text = self._loader.load(f"{template}.txt.pt", format="text")(**values)
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        html = self._loader.load(f"{template}.html.pt")(**values)
        return EmailContent(subject=subject, text=text, html=html)
