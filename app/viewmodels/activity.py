"""The signed-in user's own security events, newest first."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from app.models import AccountEvent
from app.services.kernel.pagination import Page
from app.viewmodels.base import ViewModelBase
from app.viewmodels.events import event_row
from app.viewmodels.pages import pager


class ActivityViewModel(ViewModelBase):
    def __init__(self, request: Request, page: Page[AccountEvent]) -> None:
        super().__init__(request)
        self.page = page
        self.rows = [event_row(event, request.formats) for event in page.items]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "total": self.page.total,
            **pager(self.request, "account.activity", self.page.page, self.page.pages),
        }
