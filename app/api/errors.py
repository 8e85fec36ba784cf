"""The JSON API's one shape of error, `{"errors": [{"code", "message", "field"}]}`, and
the status each refusal of the services answers with.

The codes are the services' own (app/services/kernel/errors.py), so that a program can
rely on them; the messages are those the HTML pages show, in the request's language."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pyramid.response import Response

from app.i18n import translated
from app.services.kernel.errors import (
    AccountDisabled,
    AddressUnconfirmed,
    AdminActionRefused,
    DomainError,
    EmailTaken,
    InvalidSecondFactorCode,
    RateLimited,
    SignInFailed,
)
from app.services.kernel.lifecycle_errors import DeletionRefused
from app.web.request import AppRequest

JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class Problem:
    """One error of an answer: a stable code, the message for a person, and the field
    of the request it concerns (None for the request as a whole)."""

    code: str
    message: str
    field: str | None = None


class ApiError(Exception):
    """A refusal of the API itself (the request's shape, media type, permission), with
    its status; raised where a view cannot go on, answered by the exception view."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.problems = [Problem(code, message, field)]
        self.headers = headers or {}

    @classmethod
    def of(
        cls, status: int, problems: list[Problem], headers: dict[str, str] | None = None
    ) -> ApiError:
        error = cls(status, problems[0].code, problems[0].message, problems[0].field, headers)
        error.problems = problems
        return error


# The status of a service's refusal, by its class (the first that matches); any other
# refusal is a 400.
STATUS_BY_REFUSAL: tuple[tuple[type[DomainError], int], ...] = (
    (RateLimited, 429),
    (AccountDisabled, 403),
    (AddressUnconfirmed, 403),
    (SignInFailed, 401),
    (InvalidSecondFactorCode, 401),
    (EmailTaken, 409),
    (AdminActionRefused, 409),
    (DeletionRefused, 409),
)


def status_of(error: DomainError) -> int:
    for kind, status in STATUS_BY_REFUSAL:
        if isinstance(error, kind):
            return status
    return 400


def refusal(request: AppRequest, error: DomainError, field: str | None = None) -> ApiError:
    """A service's refusal as the API's error: its code, its message in the request's
    language, its status, and for a rate limit the wait."""
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    return ApiError(
        status_of(error), error.code, translated(request, error.message), field, headers
    )


def error_response(request: AppRequest, error: ApiError) -> Response:
    return problems_response(error.status, error.problems, error.headers)


def problems_response(
    status: int, problems: Iterable[Problem], headers: dict[str, str] | None = None
) -> Response:
    body = {"errors": [{"code": p.code, "message": p.message, "field": p.field} for p in problems]}
    response = Response(status=status, json_body=body, content_type=JSON_MEDIA_TYPE, charset=None)
    response.headers.update(headers or {})
    response.cache_control = "no-store"
    return response
