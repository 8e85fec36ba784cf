from __future__ import annotations

from typing import Any

from pyramid.response import Response

from app.request import AppRequest
from app.services.accounts import AccountService
from app.services.audit import AuditLog
from app.services.rate_limits import RateLimited, RateLimiter

TOO_MANY_TEMPLATE = "app:templates/errors/too_many.pt"


class ControllerBase:
    def __init__(self, request: AppRequest) -> None:
        self.request = request

    @property
    def accounts(self) -> AccountService:
        return self.request.accounts

    @property
    def client_ip(self) -> str | None:
        return self.request.client_ip

    @property
    def audit(self) -> AuditLog:
        return self.request.audit

    @property
    def rate_limiter(self) -> RateLimiter:
        return self.request.rate_limiter

    def too_many(self, exc: RateLimited) -> dict[str, Any]:
        """The 429 page, returned rather than raised so the request's audit event is kept."""
        return too_many_response(self.request, exc)

    def flash(self, message: str, queue: str = "success") -> None:
        self.request.session.flash(message, queue=queue)


def too_many_response(request: AppRequest, exc: RateLimited) -> dict[str, Any]:
    request.response.status = 429
    request.response.headers["Retry-After"] = str(exc.retry_after)
    request.override_renderer = TOO_MANY_TEMPLATE
    minutes = -(-exc.retry_after // 60)
    wait = f"{minutes} minute" + ("s" if minutes != 1 else "")
    return {"wait": wait, "retry_after": exc.retry_after}


def see_other(location: str, headers: list[tuple[str, str]] | None = None) -> Response:
    """A bare 303 redirect (post/redirect/get). HTTPSeeOther would also render an HTML
    body for it, which no browser shows and which costs more than the redirect itself."""
    response = Response(status=303, location=location)
    if headers:
        response.headerlist.extend(headers)
    return response
