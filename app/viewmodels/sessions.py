"""The device list: each signed-in session, described for a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pyramid.request import Request

from app.models import LoginSession
from app.models.login_sessions import APP_SESSION
from app.services.sessions.user_agents import describe_user_agent
from app.translation import _
from app.viewmodels.base import ViewModelBase

# A session started within this of its browser's first sign-in was that first sign-in.
FIRST_SIGN_IN_SLACK = timedelta(seconds=5)


@dataclass(frozen=True)
class DeviceRow:
    id: int
    description: str
    ip: str
    signed_in_at: datetime
    last_seen_at: datetime
    is_current: bool
    # The browser it came from (its device cookie): when the account first saw it, and
    # whether this session was its first sign-in; None if the browser is forgotten.
    browser_known_since: datetime | None
    new_browser: bool
    # An application's session (the JSON API's app mode), not a browser's.
    is_app: bool = False


class SessionsViewModel(ViewModelBase):
    def __init__(self, request: Request, sessions: list[LoginSession], current_id: int | None):
        super().__init__(request)
        self.devices = [self._row(s, current_id) for s in sessions]
        # This device first, then the most recently seen.
        self.devices.sort(key=lambda d: (not d.is_current, -d.last_seen_at.timestamp()))

    def _row(self, s: LoginSession, current_id: int | None) -> DeviceRow:
        # An application's session has no browser: its device is the session itself.
        browser = s.known_device if s.kind != APP_SESSION else None
        return DeviceRow(
            id=s.id,
            description=describe_user_agent(s.user_agent),
            ip=s.ip or self.translate(_("unknown")),
            signed_in_at=s.created_at,
            last_seen_at=s.last_seen_at,
            is_current=s.id == current_id,
            browser_known_since=browser.first_seen_at if browser else None,
            new_browser=bool(
                browser and browser.first_seen_at >= s.created_at - FIRST_SIGN_IN_SLACK
            ),
            is_app=s.kind == APP_SESSION,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": self.error,
            "devices": self.devices,
            "others": sum(1 for d in self.devices if not d.is_current),
        }
