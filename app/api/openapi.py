"""The OpenAPI 3.1 document of the JSON API, generated from the operations as they are
declared (app/api/operations.py) and their pydantic schemas, so that it describes the
code that runs. Built once per process, on first request."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pyramid.interfaces import IRoutesMapper
from pyramid.registry import Registry

from app.api.operations import OPERATIONS, Operation
from app.api.schemas import Errors
from app.services.kernel.errors import error_codes

DESCRIPTIONS = {
    400: "The request is not valid: see each error's code and field.",
    401: "Not signed in, a sign-in that failed, or (code reauthentication_required) a"
    " sign-in too old for this operation.",
    403: "Not allowed; in browser mode, a missing or wrong X-CSRF-Token.",
    404: "No such object.",
    405: "The path does not take this method.",
    409: "The request conflicts with the account's state.",
    413: "The body is larger than the site accepts.",
    415: "The body is not application/json.",
    429: "Too many attempts: wait for Retry-After seconds.",
    500: "An unexpected error; nothing was changed.",
    503: "The database cannot be reached: try again after Retry-After seconds.",
}
# Every operation can answer these.
COMMON_ERRORS = (429, 500, 503)
# The statuses that tell the client how long to wait.
WAIT_STATUSES = (429, 503)
BODY_ERRORS = (400, 413, 415)
SIGNED_IN_ERRORS = (401, 403)

_PLACEHOLDER = re.compile(r"\{(\w+)(?::([^{}]*(?:\{[^{}]*\}[^{}]*)*))?\}")


def document(registry: Registry) -> dict[str, Any]:
    """The document, made once and kept in the registry."""
    made = registry.get("openapi_document")
    if made is None:
        made = registry["openapi_document"] = _build(registry)
    return made


def _build(registry: Registry) -> dict[str, Any]:
    mapper = registry.getUtility(IRoutesMapper)
    patterns = {route.name: route.pattern for route in mapper.get_routes()}
    settings = registry["app_settings"]
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        path, parameters = _path(patterns[operation.route])
        paths.setdefault(path, {})[operation.method.lower()] = _operation(
            operation, parameters, components
        )
    codes = ", ".join(sorted(error_codes()))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Accounts API",
            "version": "1.0.0",
            "description": (
                "Every account flow as JSON. App mode: sign in with POST /api/v1/session and"
                " send the session_token as `Authorization: Bearer`. Browser mode (same"
                " site): the session cookie, and the csrf_token of GET /api/v1/session as"
                " X-CSRF-Token on every unsafe method. Errors are"
                ' {"errors": [{"code", "message", "field"}]}; the codes of refusals are: '
                + codes
                + "."
            ),
        },
        "servers": [{"url": settings.base_url}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "auth"},
            },
        },
    }


def _path(pattern: str) -> tuple[str, list[dict[str, Any]]]:
    """The route's pattern as an OpenAPI path, with its placeholders as parameters."""
    parameters = []
    for name, regex in _PLACEHOLDER.findall(pattern):
        schema: dict[str, Any] = {"type": "string"}
        if regex == r"\d{1,9}":
            schema = {"type": "integer", "minimum": 0, "maximum": 999_999_999}
        elif regex:
            schema["pattern"] = f"^{regex}$"
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _PLACEHOLDER.sub(lambda m: "{" + m.group(1) + "}", pattern), parameters


def _operation(
    operation: Operation, parameters: list[dict[str, Any]], components: dict[str, Any]
) -> dict[str, Any]:
    described: dict[str, Any] = {
        "operationId": operation.name,
        "summary": operation.summary,
        "tags": [operation.tag],
        "responses": {},
    }
    if operation.description:
        described["description"] = operation.description
    if parameters:
        described["parameters"] = parameters
    if operation.permission is not None:
        described["security"] = [{"bearer": []}, {"cookie": []}]
    if operation.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(operation.body, components)}},
        }
    errors = set(operation.errors) | set(COMMON_ERRORS)
    if operation.body is not None:
        errors |= set(BODY_ERRORS)
    if operation.permission is not None:
        # Every permission asks for a signed-in account first (app/security.py).
        errors |= set(SIGNED_IN_ERRORS)
    if operation.method != "GET":
        errors.add(403)  # browser mode's CSRF check
    if parameters:
        errors.add(404)
    responses = described["responses"]
    for status, model in operation.answers.items():
        responses[str(status)] = _answer(status, model, status in errors, components)
    for status in sorted(errors - set(operation.answers)):
        responses[str(status)] = _answer(status, Errors, False, components)
    return dict(described, responses=dict(sorted(responses.items())))


def _answer(
    status: int, model: type[BaseModel] | None, or_error: bool, components: dict[str, Any]
) -> dict[str, Any]:
    """One response: its description, and the schema of its body (or either schema,
    where the status may also be a plain error)."""
    description = (model.__doc__ if model is not None else None) or DESCRIPTIONS.get(
        status, "Done." if status < 300 else "Refused."
    )
    if model is None:
        return {"description": description}
    schema: dict[str, Any] = _ref(model, components)
    if or_error and model is not Errors:
        schema = {"anyOf": [schema, _ref(Errors, components)]}
    described: dict[str, Any] = {
        "description": " ".join(description.split()),
        "content": {"application/json": {"schema": schema}},
    }
    if status in WAIT_STATUSES:
        described["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return described


def _ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    """A reference to the model's schema, added (with the models it uses) to the
    components."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, nested in schema.pop("$defs", {}).items():
        components.setdefault(name, nested)
    components.setdefault(model.__name__, schema)
    return {"$ref": f"#/components/schemas/{model.__name__}"}
