"""Lists shown a page at a time: reading ?page=, and the links of the pager."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pyramid.request import Request

# Page numbers shown on each side of the current one; the first and last are always shown.
WINDOW = 2


def page_number(request: Request) -> int:
    """The ?page= number, or 1 for anything that is not one to six ASCII digits."""
    raw = request.GET.get("page")
    return int(raw) if isinstance(raw, str) and re.fullmatch(r"[0-9]{1,6}", raw) else 1


def page_numbers(page: int, pages: int) -> list[int | None]:
    """The page numbers to link to, with None for a gap: 1 … 4 5 [6] 7 8 … 20."""
    shown = {1, pages, *range(page - WINDOW, page + WINDOW + 1)}
    numbers: list[int | None] = []
    for number in sorted(n for n in shown if 1 <= n <= pages):
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


def pager(request: Request, route_name: str, page: int, pages: int, **route: Any) -> dict[str, Any]:
    """What the pager (templates/shared/pager.pt) needs: where each page is. The query
    keeps the list's other parameters (a search, a filter); `route` fills the path."""
    query = {k: v for k, v in route.pop("_query", {}).items() if v}

    def page_url(number: int) -> str:
        return str(request.route_path(route_name, **route, _query={**query, "page": number}))

    url: Callable[[int], str] = page_url
    return {"page": page, "pages": pages, "page_url": url, "page_numbers": page_numbers}
