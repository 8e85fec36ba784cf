"""The signed-in user's own security events, newest first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyramid.request import Request

from app.services.audit import DESCRIPTIONS, EventPage
from app.services.user_agents import describe_user_agent

from .base import ViewModelBase


@dataclass(frozen=True)
class EventRow:
    when: datetime
    description: str
    ip: str
    device: str


def page_number(request: Request) -> int:
    """The ?page= number, or 1 for anything that is not one to six ASCII digits."""
    raw = request.GET.get("page", "1")
    return int(raw) if re.fullmatch(r"[0-9]{1,6}", raw) else 1


class ActivityViewModel(ViewModelBase):
    def __init__(self, request: Request, page: EventPage) -> None:
        super().__init__(request)
        self.page = page
        self.rows = [
            EventRow(
                when=event.created_at,
                description=DESCRIPTIONS.get(event.kind, event.kind.replace("_", " ")),
                ip=event.ip or "unknown",
                device=describe_user_agent(event.user_agent),
            )
            for event in page.events
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "page": self.page.page,
            "pages": self.page.pages,
            "total": self.page.total,
        }
