"""What every controller shares: the request's services, and the answers every form
gives (the form again with its error, the 429 page, a redirect)."""

from __future__ import annotations

from typing import Any

from pyramid.response import Response

from app.i18n import translated
from app.services.composition import Services
from app.services.kernel.errors import DomainError, RateLimited
from app.viewmodels.base import ViewModelBase
from app.web.request import AppRequest

TOO_MANY_TEMPLATE = "app:templates/errors/too_many.pt"


class ControllerBase:
    # Pyramid calls a view class with the request alone because this signature asks for
    # it alone; make mutate's wrapper would hide that, so the line is not mutated.
    def __init__(self, request: AppRequest) -> None:  # pragma: no mutate block
        self.request = request

    @property
    def services(self) -> Services:
        return self.request.services

    def form_error(self, vm: ViewModelBase, error: DomainError | None = None) -> dict[str, Any]:
        """The form again, with status 400 and the error (the view model's own, or the
        refusal a service raised)."""
        if error is not None:
            vm.refused(error)
        self.request.response.status = 400
        return vm.to_dict()

    def too_many(self, exc: RateLimited) -> dict[str, Any]:
        """The 429 page, returned rather than raised so the request's audit event is kept."""
        return too_many_response(self.request, exc)

    def flash(self, message: str, queue: str = "success") -> None:
        """A message for the next page, in the request's language (the session keeps
        plain text)."""
        self.request.session.flash(translated(self.request, message), queue=queue)


def too_many_response(request: AppRequest, exc: RateLimited) -> dict[str, Any]:
    request.response.status = 429
    request.response.headers["Retry-After"] = str(exc.retry_after)
    request.override_renderer = TOO_MANY_TEMPLATE
    minutes = -(-exc.retry_after // 60)
    wait = request.formats.ngettext("${n} minute", "${n} minutes", minutes)
    return {"wait": wait}


def see_other(
    request: AppRequest, path: str, headers: list[tuple[str, str]] | None = None
) -> Response:
    """A bare 303 redirect (post/redirect/get) to a path of this site, as an absolute URL
    on app.base_url: never on the Host header the request came with, which the client
    chooses. (HTTPSeeOther would also render an HTML body, which no browser shows.)"""
    response = Response(status=303, location=request.app_settings.origin + path)
    if headers:
        response.headerlist.extend(headers)
    return response
