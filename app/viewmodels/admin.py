"""View models of the administrators' pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyramid.request import Request

from app.models import Account, AccountEvent
from app.services.admin import account_status
from app.services.pagination import Page

from .activity import page_number
from .base import ViewModelBase
from .events import event_row

STATUS_LABELS = {
    "active": "Active",
    "invited": "Invited, waiting",
    "unconfirmed": "Email not confirmed",
    "disabled": "Disabled",
}


@dataclass(frozen=True)
class AccountRow:
    id: int
    email: str
    status: str
    status_label: str
    is_admin: bool
    created_at: datetime
    last_login_at: datetime | None


def account_row(account: Account) -> AccountRow:
    status = account_status(account)
    return AccountRow(
        id=account.id,
        email=account.email,
        status=status,
        status_label=STATUS_LABELS[status],
        is_admin=account.is_admin,
        created_at=account.created_at,
        last_login_at=account.last_login_at,
    )


class AccountListViewModel(ViewModelBase):
    def __init__(self, request: Request, page: Page[Account], query: str) -> None:
        super().__init__(request)
        self.page = page
        self.query = query
        self.rows = [account_row(a) for a in page.items]

    @staticmethod
    def search_from(request: Request) -> tuple[str, int]:
        query = request.GET.get("q", "")
        return (query if isinstance(query, str) else ""), page_number(request)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "q": self.query,
            "page": self.page.page,
            "pages": self.page.pages,
            "total": self.page.total,
        }


class NewAccountViewModel(ViewModelBase):
    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self.email = ""
        self.is_admin = False

    @classmethod
    def from_request(cls, request: Request) -> NewAccountViewModel:
        vm = cls(request)
        vm.email = vm.form_value("email")
        vm.is_admin = vm.form_value("is_admin") in ("on", "true", "1", "yes")
        return vm

    def validate(self) -> bool:
        if self.error:
            return False
        email = self.clean_email_field(self.email)
        if email is None:
            return False
        self.email = email
        return True

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error, "email": self.email, "is_admin": self.is_admin}


class AccountDetailViewModel(ViewModelBase):
    def __init__(
        self,
        request: Request,
        account: Account,
        events: Page[AccountEvent],
        has_second_factor: bool,
    ) -> None:
        super().__init__(request)
        self.account = account
        self.has_second_factor = has_second_factor
        self.row = account_row(account)
        self.events = events
        self.event_rows = [event_row(event) for event in events.items]

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "row": self.row,
            "events": self.event_rows,
            "page": self.events.page,
            "pages": self.events.pages,
            "is_self": self.request.identity.id == self.account.id,
            "has_second_factor": self.has_second_factor,
        }
