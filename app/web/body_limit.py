"""Refuse request bodies over `app.max_body_bytes` (default 64 KiB) with 413, before
anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPRequestEntityTooLarge
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from app.api.errors import Problem, problems_response
from app.web.request import is_api_request


def body_limit_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    limit = registry["app_settings"].max_body_bytes

    def body_limit_tween(request: Request) -> Response:
        length = request.content_length
        chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        if (length is not None and length > limit) or (length is None and chunked):
            message = f"The request is larger than this site accepts ({limit // 1024} KiB)."
            if is_api_request(request):
                # The JSON API answers in its own shape of errors.
                return problems_response(413, [Problem("body_too_large", message)])
            return HTTPRequestEntityTooLarge(message)
        return handler(request)

    return body_limit_tween


def includeme(config: Configurator) -> None:
    # Just inside the security headers, so a 413 carries them too.
    config.add_tween(
        "app.web.body_limit.body_limit_tween_factory",
        under="app.web.headers.security_headers_tween_factory",
    )
