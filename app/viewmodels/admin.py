"""View models of the administrators' pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pyramid.request import Request

from app.models import Account, AccountEvent
from app.services.admin.account_admin import account_status
from app.services.kernel.errors import EmailTaken, InvalidEmail
from app.services.kernel.pagination import Page
from app.translation import _
from app.viewmodels.base import ViewModelBase
from app.viewmodels.events import event_row
from app.viewmodels.pages import page_number, pager

STATUS_LABELS = {
    "active": _("Active"),
    "invited": _("Invited, waiting"),
    "unconfirmed": _("Email not confirmed"),
    "disabled": _("Disabled"),
    "deleting": _("Being deleted"),
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
    display_name: str | None = None


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
        display_name=account.display_name,
    )


STATUS_FILTERS = ("active", "invited", "unconfirmed", "disabled", "deleting")
SORT_LABELS = {
    "newest": _("Newest first"),
    "oldest": _("Oldest first"),
    "email": _("Email address"),
    "last_sign_in": _("Last sign-in"),
}


@dataclass(frozen=True)
class AccountSearch:
    """The list's parameters, as asked in the query string (anything odd is ignored)."""

    query: str = ""
    status: str = ""
    sort: str = "newest"
    page: int = 1

    @classmethod
    def from_request(cls, request: Request) -> AccountSearch:
        def text(name: str) -> str:
            return request.GET.get(name, "")

        status, sort = text("status"), text("sort")
        return cls(
            query=text("q"),
            status=status if status in STATUS_FILTERS else "",
            sort=sort if sort in SORT_LABELS else "newest",
            page=page_number(request),
        )

    def params(self) -> dict[str, str]:
        """The query string of this search, without the page (blank values left out)."""
        values = {"q": self.query, "status": self.status}
        if self.sort != "newest":
            values["sort"] = self.sort
        return {k: v for k, v in values.items() if v}


class AccountListViewModel(ViewModelBase):
    def __init__(self, request: Request, page: Page[Account], search: AccountSearch) -> None:
        super().__init__(request)
        self.page = page
        self.search = search
        self.rows = [account_row(a) for a in page.items]
        # A page number past the end shows no rows and says so.
        self.past_the_end = search.page > page.pages
        if self.past_the_end:
            self.rows = []

    def to_dict(self) -> dict[str, Any]:
        search = self.search
        return {
            "rows": self.rows,
            "q": search.query,
            "status": search.status,
            "sort": search.sort,
            "statuses": [(s, STATUS_LABELS[s]) for s in STATUS_FILTERS],
            "sorts": list(SORT_LABELS.items()),
            "filtered": bool(search.query or search.status),
            "asked_page": search.page,
            "past_the_end": self.past_the_end,
            "total": self.page.total,
            **pager(
                self.request,
                "admin.accounts",
                self.page.page,
                self.page.pages,
                _query=search.params(),
            ),
        }


class NewAccountViewModel(ViewModelBase):
    FIELDS = (("email", _("Email address")),)
    REFUSAL_FIELDS = ((EmailTaken, "email"), (InvalidEmail, "email"))

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
        if not self.email.strip():
            self.fail("email", _("Enter the address to send the invitation to."))
            return False
        email = self.clean_email_field(self.email)
        if email is None:
            return False
        self.email = email
        return True

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "email": self.email, "is_admin": self.is_admin}


class AccountDetailViewModel(ViewModelBase):
    def __init__(
        self,
        request: Request,
        account: Account,
        events: Page[AccountEvent],
        has_second_factor: bool,
        actors: dict[int, str] | None = None,
    ) -> None:
        super().__init__(request)
        self.account = account
        self.has_second_factor = has_second_factor
        self.row = account_row(account)
        self.events = events
        self.event_rows = [event_row(event, request.formats, actors) for event in events.items]

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "row": self.row,
            "events": self.event_rows,
            **pager(
                self.request,
                "admin.account",
                self.events.page,
                self.events.pages,
                id=self.account.id,
            ),
            "is_self": self.request.identity.id == self.account.id,
            "has_second_factor": self.has_second_factor,
        }
