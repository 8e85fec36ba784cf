"""Each operation of the JSON API is declared once, with `api_operation`: its route and
method, who may call it, the schema of its body and of each answer. The declaration
registers the Pyramid view and is what app/api/openapi.py describes, so the document
and the code cannot drift apart.

The view then runs inside the API's rules: the browser mode's CSRF check, the body read
and validated (400, 413, 415), and every refusal, the API's own or a service's, answered
in the one shape of errors. A refusal is returned, not raised, so that what the request
recorded (a counted guess, an audit event) is kept, as the HTML pages do."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pyramid.response import Response
from pyramid.view import view_config

from app.api.errors import JSON_MEDIA_TYPE, ApiError, error_response, refusal
from app.api.json_bodies import read_body
from app.api.modes import Mode, guard
from app.services.kernel.errors import DomainError

PREFIX = "/api/v1"


@dataclass(frozen=True)
class Operation:
    route: str
    method: str
    summary: str
    description: str
    # The permission of app/security.py the caller needs, or None for anyone.
    permission: str | None
    body: type[BaseModel] | None
    # Each answer's status, with its schema (None: no body).
    answers: dict[int, type[BaseModel] | None]
    # The error statuses the operation can answer besides those every operation can.
    errors: tuple[int, ...]
    tag: str
    # The view's name, for the document's operationId.
    name: str = field(default="")


# Every declared operation, in the order of declaration.
OPERATIONS: list[Operation] = []


def api_operation(
    route: str,
    method: str,
    *,
    summary: str,
    tag: str,
    answers: dict[int, type[BaseModel] | None],
    body: type[BaseModel] | None = None,
    permission: str | None = None,
    errors: tuple[int, ...] = (),
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Declare a method of an ApiController as an operation. The method is called with
    the request's mode, and the validated body when the operation has one."""

    def decorate(method_of_view: Callable[..., Response]) -> Callable[..., Response]:
        operation = Operation(
            route=route,
            method=method,
            summary=summary,
            description=(method_of_view.__doc__ or "").strip(),
            permission=permission,
            body=body,
            answers=answers,
            errors=errors,
            tag=tag,
            name=_operation_id(method_of_view.__qualname__),
        )
        OPERATIONS.append(operation)

        @functools.wraps(method_of_view)
        def view(controller: Any) -> Response:
            request = controller.request
            try:
                mode = guard(request)
                if body is None:
                    return method_of_view(controller, mode)
                return method_of_view(controller, mode, read_body(request, body))
            except ApiError as exc:
                return error_response(request, exc)
            except DomainError as exc:
                return error_response(request, refusal(request, exc))

        return view_config(
            route_name=route,
            request_method=method,
            permission=permission,
            require_csrf=False,
            # Registered as a method of the class the decorator is used in.
            _depth=1,
        )(view)

    return decorate


def _operation_id(qualname: str) -> str:
    """A unique name for the document: "PasskeysApi.sign_in" -> "passkeys_sign_in"."""
    owner, _, name = qualname.rpartition(".")
    words = re.findall(r"[A-Z][a-z0-9]*", owner.removesuffix("Api"))
    return "_".join([*(word.lower() for word in words), name])


def answer(
    content: BaseModel | None = None,
    status: int = 200,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    """An answer of the API: `content` as JSON (or no body), never stored by a cache."""
    if content is None:
        response = Response(status=status)
    else:
        response = Response(
            status=status,
            body=content.model_dump_json().encode(),
            content_type=JSON_MEDIA_TYPE,
            charset=None,
        )
    response.cache_control = "no-store"
    if headers:
        response.headerlist.extend(headers)
    return response


__all__ = ["OPERATIONS", "PREFIX", "Mode", "Operation", "answer", "api_operation"]
