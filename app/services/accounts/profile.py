"""What an account says about its owner beyond the address: an optional display name,
used in greetings and emails and given to applications as the `name` claim."""

from __future__ import annotations

import unicodedata

from app.models import Account
from app.services.kernel import audit as events
from app.services.kernel.context import ContextService
from app.services.kernel.errors import DomainError
from app.translation import _

MAX_DISPLAY_NAME = 80


class DisplayNameRefused(DomainError):
    code = "display_name_invalid"
    other_codes = ("display_name_too_long",)
    message = _("A name is made of letters, digits, spaces and punctuation.")


def clean_display_name(text: str) -> str | None:
    """The name as it is kept: NFC, spaces collapsed and trimmed; None for an empty one.
    Raises DisplayNameRefused for control or invisible formatting characters, or more
    than MAX_DISPLAY_NAME characters. Markup is kept as text: pages escape it."""
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not name:
        return None
    if len(name) > MAX_DISPLAY_NAME:
        raise DisplayNameRefused(
            _(
                "A name has at most ${n} characters.",
                mapping={"n": MAX_DISPLAY_NAME},
            ),
            code="display_name_too_long",
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp") for ch in name):
        raise DisplayNameRefused()
    return name


class ProfileService(ContextService):
    def set_display_name(self, account: Account, text: str) -> str | None:
        """Give the account a name (or take it away with an empty one); recorded.
        Raises DisplayNameRefused."""
        name = clean_display_name(text)
        if name != account.display_name:
            account.display_name = name
            self.audit.record(events.DISPLAY_NAME_CHANGED, account.id)
            self.dbsession.flush()
        return name
