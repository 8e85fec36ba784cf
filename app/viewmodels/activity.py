"""The signed-in user's own security events, newest first."""

from __future__ import annotations

import re
from typing import Any

from pyramid.request import Request

from app.models import AccountEvent
from app.services.pagination import Page

from .base import ViewModelBase
from .events import event_row


def page_number(request: Request) -> int:
    """The ?page= number, or 1 for anything that is not one to six ASCII digits."""
    raw = request.GET.get("page", "1")
    return int(raw) if re.fullmatch(r"[0-9]{1,6}", raw) else 1


class ActivityViewModel(ViewModelBase):
    def __init__(self, request: Request, page: Page[AccountEvent]) -> None:
        super().__init__(request)
        self.page = page
        self.rows = [event_row(event) for event in page.items]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "page": self.page.page,
            "pages": self.page.pages,
            "total": self.page.total,
        }
