"""The pager under a long list: which page numbers it links to, with a gap for the
pages it leaves out, and where each link goes (no database)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyramid import testing
from pyramid.testing import DummyRequest

from app.services.kernel.pagination import Page
from app.viewmodels.activity import ActivityViewModel
from app.viewmodels.pages import page_numbers, pager


@pytest.fixture
def request_with_routes() -> Iterator[DummyRequest]:
    """A request that can build the application's own paths."""
    config = testing.setUp()
    config.include("app.routes")
    yield DummyRequest()
    testing.tearDown()


@pytest.mark.parametrize(
    ("page", "pages", "numbers"),
    [
        (1, 1, [1]),
        (1, 2, [1, 2]),
        (2, 2, [1, 2]),
        (1, 20, [1, 2, 3, None, 20]),
        (4, 20, [1, 2, 3, 4, 5, 6, None, 20]),
        (5, 20, [1, None, 3, 4, 5, 6, 7, None, 20]),
        (6, 20, [1, None, 4, 5, 6, 7, 8, None, 20]),
        (17, 20, [1, None, 15, 16, 17, 18, 19, 20]),
        (20, 20, [1, None, 18, 19, 20]),
        (4, 7, [1, 2, 3, 4, 5, 6, 7]),
    ],
)
def test_the_pager_shows_the_first_last_and_nearby_pages_with_gaps_between(
    page, pages, numbers
) -> None:
    assert page_numbers(page, pages) == numbers


@given(st.integers(1, 500).flatmap(lambda pages: st.tuples(st.integers(1, pages), st.just(pages))))
def test_every_page_number_shown_is_a_real_page_once_in_order(page_and_pages) -> None:
    page, pages = page_and_pages

    numbers = page_numbers(page, pages)
    shown = [n for n in numbers if n is not None]

    assert shown == sorted(set(shown))
    assert {1, page, pages} <= set(shown) <= set(range(1, pages + 1))
    assert numbers[0] == 1 and numbers[-1] == pages
    for before, after in zip(numbers, numbers[1:], strict=False):
        assert before is not None or after is not None
        if before is not None and after is not None:
            assert after == before + 1


def test_a_page_link_keeps_the_lists_search_and_drops_empty_parameters(
    request_with_routes: DummyRequest,
) -> None:
    shown = pager(
        request_with_routes,
        "admin.accounts",
        2,
        5,
        _query={"q": "bob", "status": "", "sort": "email"},
    )

    assert (shown["page"], shown["pages"]) == (2, 5)
    assert shown["page_numbers"](2, 5) == [1, 2, 3, 4, 5]
    assert shown["page_url"](3) == "/admin/accounts?q=bob&sort=email&page=3"


def test_a_page_link_fills_in_the_path_of_the_list(request_with_routes: DummyRequest) -> None:
    shown = pager(request_with_routes, "admin.account", 1, 3, id=42)

    assert shown["page_url"](2) == "/admin/accounts/42?page=2"


def test_the_activity_page_says_how_many_events_and_links_to_its_pages(
    request_with_routes: DummyRequest,
) -> None:
    shown = ActivityViewModel(request_with_routes, Page(items=[], page=2, pages=3, total=45))

    result = shown.to_dict()

    assert (result["rows"], result["total"], result["page"], result["pages"]) == ([], 45, 2, 3)
    assert result["page_url"](3) == "/account/activity?page=3"
    assert result["page_numbers"](2, 3) == [1, 2, 3]
