"""The emails: each one's subject and Chameleon templates in app/templates/emails/,
rendered from the parameters it was queued with (plain JSON values)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from chameleon import PageTemplateLoader

from app.i18n import (
    DEFAULT_LOCALE,
    Formats,
    colon,
    localizer_for,
    supported,
    translation_directory,
)
from app.mail.text import html_to_text
from app.services.sessions.user_agents import describe_user_agent
from app.translation import _

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "emails"


@dataclass(frozen=True)
class EmailContent:
    subject: str
    text: str
    html: str


class UnknownEmail(LookupError):
    """A queued message names an email this version does not know."""


def describe_minutes(minutes: int, formats: Formats) -> str:
    days, hours = divmod(minutes, 1440)[0], divmod(minutes, 60)[0]
    if minutes % 1440 == 0:
        return formats.ngettext("${n} day", "${n} days", days)
    if minutes % 60 == 0:
        return formats.ngettext("${n} hour", "${n} hours", hours)
    return formats.ngettext("${n} minute", "${n} minutes", minutes)


def _when(params: Mapping[str, Any], formats: Formats) -> str:
    return formats.when(datetime.fromisoformat(params["when"]))


def _ip(params: Mapping[str, Any], formats: Formats) -> str:
    return params.get("ip") or formats.translate(_("an unknown address"))


def _link(params: Mapping[str, Any], formats: Formats) -> dict[str, Any]:
    return {
        "email": params["email"],
        "link": params["link"],
        "lifetime": describe_minutes(int(params["minutes"]), formats),
        "password_voided": params.get("password_voided") is True,
    }


def _changed(params: Mapping[str, Any], formats: Formats) -> dict[str, Any]:
    return {"email": params["email"], "when": _when(params, formats), "ip": _ip(params, formats)}


def _disabled(params: Mapping[str, Any], formats: Formats) -> dict[str, Any]:
    return {"email": params["email"], "contact": params["contact"]}


def _erased(params: Mapping[str, Any], formats: Formats) -> dict[str, Any]:
    return {
        "email": params["email"],
        "by_administrator": bool(params.get("by_administrator")),
        "contact": params["contact"],
    }


def _removed_by_admin(params: Mapping[str, Any], formats: Formats) -> dict[str, Any]:
    return {
        "email": params["email"],
        "when": _when(params, formats),
        "authenticator_app": bool(params.get("authenticator_app")),
        "passkeys": [str(name) for name in params.get("passkeys") or ()],
        "contact": params["contact"],
        "site": params["site"],
    }


def _code(params: Mapping[str, Any], formats: Formats) -> dict[str, Any]:
    return {
        "email": params["email"],
        "code": params["code"],
        "lifetime": describe_minutes(int(params["minutes"]), formats),
    }


def _site(params: Mapping[str, Any], formats: Formats) -> dict[str, Any]:
    return {"email": params["email"], "site": params["site"]}


def _moved(params: Mapping[str, Any], formats: Formats) -> dict[str, Any]:
    return {
        "email": params["email"],
        "new_email": params["new_email"],
        "when": _when(params, formats),
        # Emails queued before undo links existed have none.
        "link": params.get("link"),
    }


def _new_device(params: Mapping[str, Any], formats: Formats) -> dict[str, Any]:
    return {
        "email": params["email"],
        "when": _when(params, formats),
        # Emails queued before devices were described at rendering carry the English
        # description instead of the User-Agent.
        "device": params.get("device")
        or formats.translate(describe_user_agent(params.get("user_agent"))),
        "ip": _ip(params, formats),
        "link": params["link"],
        "site": params["site"],
    }


def _security(params: Mapping[str, Any], formats: Formats) -> dict[str, Any]:
    return {
        "email": params["email"],
        "site": params["site"],
        "when": _when(params, formats),
        "left_text": _codes_left(params.get("left"), formats),
        "name": params.get("name"),
    }


def _codes_left(left: Any, formats: Formats) -> str | None:
    if not isinstance(left, int):
        return None
    return formats.ngettext("${n} recovery code left.", "${n} recovery codes left.", left)


Prepare = Callable[[Mapping[str, Any], Formats], dict[str, Any]]

# Each email: its subject, and how its queued parameters become the template's values.
EMAILS: dict[str, tuple[str, Prepare]] = {
    "password_reset": (_("Reset your password"), _link),
    "invitation": (_("You have been invited: choose your password"), _link),
    "password_changed": (_("Your password was changed"), _changed),
    "verify_email": (_("Confirm your email address"), _link),
    "registration_attempt": (_("Someone tried to register with your address"), _site),
    "confirm_new_email": (_("Confirm your new email address"), _link),
    "address_in_use": (_("Someone tried to use your address"), _site),
    "email_changed": (_("Your email address was changed"), _moved),
    "second_factor_added": (_("Two-factor sign-in is on"), _security),
    "second_factor_removed": (_("Two-factor sign-in was turned off"), _security),
    "recovery_code_used": (_("A recovery code was used"), _security),
    "recovery_codes_renewed": (_("New recovery codes were made"), _security),
    "passkey_added": (_("A passkey was added to your account"), _security),
    "passkey_removed": (_("A passkey was removed from your account"), _security),
    "upstream_linked": (_("A sign-in with another provider was linked"), _security),
    "upstream_unlinked": (_("A sign-in with another provider was unlinked"), _security),
    "role_granted": (_("You are now an administrator"), _security),
    "role_revoked": (_("You are no longer an administrator"), _security),
    "new_device": (_("A new sign-in to your account"), _new_device),
    "account_disabled": (_("Your account is disabled"), _disabled),
    "deletion_scheduled": (_("Your account will be deleted"), _link),
    "account_erased": (_("Your account has been deleted"), _erased),
    "sign_in_code": (_("Your sign-in code"), _code),
    "second_factors_removed_by_admin": (
        _("An administrator turned off two-factor sign-in"),
        _removed_by_admin,
    ),
}


class MailTemplates:
    def __init__(self, site_name: str = "Accounts", auto_reload: bool = False) -> None:
        self.site_name = site_name
        self._loader = PageTemplateLoader(str(TEMPLATES), auto_reload=auto_reload)
        self._formats: dict[str, Formats] = {}

    def formats(self, locale: str) -> Formats:
        """Translations, dates and plurals of one language (kept once made)."""
        locale = supported(locale) or DEFAULT_LOCALE
        if locale not in self._formats:
            localizer = localizer_for(locale, [str(translation_directory())])
            self._formats[locale] = Formats(locale, localizer)
        return self._formats[locale]

    def render(self, template: str, params: Mapping[str, Any]) -> EmailContent:
        """The email `template`, filled in from the parameters it was queued with, in
        the language it was queued in (English for messages queued before languages)."""
        if template not in EMAILS:
            raise UnknownEmail(template)
        formats = self.formats(params.get("locale") or DEFAULT_LOCALE)
        subject, prepare = EMAILS[template]
        values = {
            "site_name": self.site_name,
            "subject": formats.translate(subject),
            "lang": formats.locale,
            # The name the recipient's account gave, if any: "Hello Ana," (escaped).
            "greeting_name": params.get("greeting_name") or None,
            **prepare(params, formats),
        }
        translate = formats.plurals  # the locale's translate hook, plurals and all
        html = self._loader.load(f"{template}.html.pt")(translate=translate, **values)
        return EmailContent(
            subject=values["subject"], text=html_to_text(html, colon(formats.locale)), html=html
        )
