"""What an emailed code is for and how long it lives: the page each purpose's link opens,
and each purpose's lifetime, from the settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from app.models import (
    PURPOSE_CHANGE_EMAIL,
    PURPOSE_INVITE,
    PURPOSE_NOT_ME,
    PURPOSE_RESET,
    PURPOSE_RESTORE,
    PURPOSE_SIGN_IN,
    PURPOSE_UNDO_EMAIL_CHANGE,
    PURPOSE_VERIFY_EMAIL,
)

if TYPE_CHECKING:
    from app.settings import AppSettings

# The "this wasn't me" link of a new-device email.
NOT_ME_LINK_LIFETIME = timedelta(days=7)
# How long the old address may undo a change of address.
UNDO_LINK_LIFETIME = timedelta(days=7)
# An emailed sign-in code (docs/security.md 73).
SIGN_IN_CODE_LIFETIME = timedelta(minutes=10)

# The page each purpose's emailed link opens (a sign-in code is typed, not opened).
LINK_PATHS = {
    PURPOSE_RESET: "/account/reset_password/",
    PURPOSE_INVITE: "/account/reset_password/",
    PURPOSE_VERIFY_EMAIL: "/account/verify_email/",
    PURPOSE_CHANGE_EMAIL: "/account/confirm_email/",
    PURPOSE_NOT_ME: "/account/not_me/",
    PURPOSE_UNDO_EMAIL_CHANGE: "/account/undo_email_change/",
    PURPOSE_RESTORE: "/account/restore/",
}


# The shop's own pages (api.frontend_url) that the links of flows started through the
# JSON API open instead, where the shop has one; the code travels in the fragment, which
# no server and no Referer header sees, and the page sends it back as the `key`.
FRONTEND_PATHS = {
    PURPOSE_RESET: "/reset_password#key=",
    PURPOSE_VERIFY_EMAIL: "/confirm_email#key=",
}


@dataclass(frozen=True)
class CodePolicy:
    lifetimes: Mapping[str, timedelta]
    base_url: str = "http://localhost:6543"
    # api.frontend_url, for the policy of requests that came through the JSON API.
    frontend_url: str = ""
    # Development only: log each emailed link so that it can be clicked from the console.
    log_links: bool = False

    def lifetime(self, purpose: str) -> timedelta:
        return self.lifetimes[purpose]


def code_policy(settings: AppSettings) -> CodePolicy:
    """The policy the settings give: each purpose's lifetime, the links' base URL."""
    return CodePolicy(
        lifetimes={
            PURPOSE_RESET: timedelta(minutes=settings.reset_code_minutes),
            PURPOSE_INVITE: timedelta(days=settings.invite_code_days),
            PURPOSE_VERIFY_EMAIL: timedelta(days=settings.verify_email_days),
            PURPOSE_CHANGE_EMAIL: timedelta(days=settings.verify_email_days),
            PURPOSE_NOT_ME: NOT_ME_LINK_LIFETIME,
            PURPOSE_UNDO_EMAIL_CHANGE: UNDO_LINK_LIFETIME,
            # The restore link lives as long as the grace period (with none, the account
            # is erased at once and no link is sent).
            PURPOSE_RESTORE: timedelta(days=max(settings.deletion_grace_days, 1)),
            PURPOSE_SIGN_IN: SIGN_IN_CODE_LIFETIME,
        },
        base_url=settings.base_url,
        log_links=settings.log_reset_links,
    )
