"""The view models of the administrators' pages (no database): the search read from the
query string, what it writes back into the pager's links, and a page past the end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from pyramid import testing
from pyramid.config import Configurator
from pyramid.testing import DummyRequest

from app.models import Account, AccountEvent
from app.services.kernel.pagination import Page
from app.viewmodels.admin import AccountDetailViewModel, AccountListViewModel, AccountSearch

CREATED = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def config() -> Iterator[Configurator]:
    config = testing.setUp()
    config.add_route("admin.accounts", "/admin/accounts")
    config.add_route("admin.account", "/admin/accounts/{id}")
    yield config
    testing.tearDown()


def _account(account_id: int = 42) -> Account:
    return Account(
        id=account_id,
        email="bob@example.com",
        password_hash="a hash",
        is_admin=False,
        is_disabled=False,
        email_verified_at=CREATED,
        created_at=CREATED,
        last_login_at=None,
        login_count=0,
    )


def test_a_search_keeps_the_statuses_and_orders_the_list_knows_and_nothing_else() -> None:
    asked = DummyRequest(params={"q": "bob", "status": "sleeping", "sort": "shoe size"})
    assert AccountSearch.from_request(asked) == AccountSearch(query="bob")

    known = DummyRequest(params={"status": "invited", "sort": "email", "page": "3"})
    assert AccountSearch.from_request(known) == AccountSearch(
        status="invited", sort="email", page=3
    )


@pytest.mark.parametrize(
    ("search", "params"),
    [
        (AccountSearch(), {}),
        (AccountSearch(query="bob", page=4), {"q": "bob"}),
        (AccountSearch(status="disabled"), {"status": "disabled"}),
        (
            AccountSearch(query="bob", status="invited", sort="oldest"),
            {"q": "bob", "status": "invited", "sort": "oldest"},
        ),
    ],
)
def test_a_search_is_written_back_without_its_defaults_or_its_page(
    search: AccountSearch, params: dict[str, str]
) -> None:
    assert search.params() == params


def test_the_account_lists_page_links_keep_the_search() -> None:
    search = AccountSearch(query="bob", status="active", sort="email", page=1)
    page = Page(items=[_account()], page=1, pages=3, total=101)

    shown = AccountListViewModel(DummyRequest(), page, search).to_dict()

    assert shown["page_url"](2) == "/admin/accounts?q=bob&status=active&sort=email&page=2"
    assert [row.email for row in shown["rows"]] == ["bob@example.com"]


def test_a_page_past_the_end_of_the_list_shows_no_rows() -> None:
    last = Page(items=[_account()], page=2, pages=2, total=51)

    vm = AccountListViewModel(DummyRequest(), last, AccountSearch(page=9))

    shown = vm.to_dict()
    assert (shown["past_the_end"], shown["rows"], shown["asked_page"]) == (True, [], 9)


def test_an_accounts_activity_pages_link_to_the_same_account(config: Configurator) -> None:
    config.testing_securitypolicy(identity=SimpleNamespace(id=1))
    request = DummyRequest()
    events: Page[AccountEvent] = Page(items=[], page=1, pages=2, total=30)

    shown = AccountDetailViewModel(request, _account(42), events, False).to_dict()

    assert shown["page_url"](2) == "/admin/accounts/42?page=2"
    assert shown["is_self"] is False
