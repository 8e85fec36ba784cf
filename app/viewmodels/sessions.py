"""The device list: each signed-in session, described for a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyramid.request import Request

from app.models import LoginSession
from app.services.user_agents import describe_user_agent

from .base import ViewModelBase


@dataclass(frozen=True)
class DeviceRow:
    id: int
    description: str
    ip: str
    signed_in_at: datetime
    last_seen_at: datetime
    is_current: bool


class SessionsViewModel(ViewModelBase):
    def __init__(self, request: Request, sessions: list[LoginSession], current_id: int | None):
        super().__init__(request)
        self.devices = [
            DeviceRow(
                id=s.id,
                description=describe_user_agent(s.user_agent),
                ip=s.ip or "unknown",
                signed_in_at=s.created_at,
                last_seen_at=s.last_seen_at,
                is_current=s.id == current_id,
            )
            for s in sessions
        ]
        # This device first, then the most recently seen.
        self.devices.sort(key=lambda d: (not d.is_current, -d.last_seen_at.timestamp()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": self.error,
            "devices": self.devices,
            "others": sum(1 for d in self.devices if not d.is_current),
        }
