"""One page of a longer list, counted and cut the same way everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

_T = TypeVar("_T")


@dataclass(frozen=True)
class Page(Generic[_T]):
    items: Sequence[_T]
    page: int
    pages: int
    total: int


def paginate(dbsession: Session, query: Select[Any], page: int, per_page: int) -> Page[Any]:
    """The rows of `query` (already ordered) on the given page. A page number past the
    end gives the last page; the caller can tell by comparing `page` with what it asked."""
    total = dbsession.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    total = total or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = dbsession.scalars(query.offset((page - 1) * per_page).limit(per_page)).all()
    return Page(items=list(items), page=page, pages=pages, total=total)
