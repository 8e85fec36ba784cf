"""Reading a JSON request body, with the refusals docs/security.md 70 asks for: another media
type is a 415, malformed JSON a 400, a document nested deeper than MAX_DEPTH a 400, and
a body over app.max_body_bytes was already refused with 413 before anything read it
(app/web/body_limit.py). Then the operation's schema validates it (a pydantic model),
and each problem is reported against its field."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.api.errors import JSON_MEDIA_TYPE, ApiError, Problem
from app.i18n import translated
from app.translation import _
from app.web.request import AppRequest

# No request of the API needs more than a few levels; a deep document costs the parser
# and the validator work for nothing.
MAX_DEPTH = 8

Model = TypeVar("Model", bound=BaseModel)


def read_body(request: AppRequest, schema: type[Model]) -> Model:
    """The request's body as `schema`, or an ApiError saying what is wrong with it."""
    document = _parse(request)
    try:
        return schema.model_validate(document)
    except ValidationError as exc:
        raise ApiError.of(400, [_problem(request, error) for error in exc.errors()]) from None


def _parse(request: AppRequest) -> Any:
    if request.content_type != JSON_MEDIA_TYPE:
        raise ApiError(
            415,
            "unsupported_media_type",
            translated(request, _("Send the request's body as application/json.")),
        )
    too_deep = ApiError(
        400, "too_deeply_nested", translated(request, _("The request's body is nested too deeply."))
    )
    try:
        document = json.loads(request.body)
    except RecursionError:
        raise too_deep from None
    except ValueError:
        raise ApiError(
            400, "malformed_json", translated(request, _("The request's body is not valid JSON."))
        ) from None
    if _depth(document) > MAX_DEPTH:
        raise too_deep
    if not isinstance(document, dict):
        raise ApiError(
            400,
            "not_an_object",
            translated(request, _("The request's body must be a JSON object.")),
        )
    return document


def _depth(document: Any) -> int:
    """How deeply arrays and objects nest in a parsed document (a scalar is 0), without
    recursion."""
    deepest = 0
    pending = [(document, 1)]
    while pending:
        value, level = pending.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        pending.extend((child, level + 1) for child in children)
    return deepest


# The stable code and the message of each kind of schema problem (pydantic's error
# types); any other kind is `field_invalid`, named by pydantic's English message.
_PROBLEMS = {
    "missing": ("field_missing", _("This field is required.")),
    "string_too_short": ("field_missing", _("This field is required.")),
    "string_type": ("field_wrong_type", _("This field must be a string.")),
    "bool_type": ("field_wrong_type", _("This field must be true or false.")),
    "bool_parsing": ("field_wrong_type", _("This field must be true or false.")),
    "int_type": ("field_wrong_type", _("This field must be a whole number.")),
    "int_parsing": ("field_wrong_type", _("This field must be a whole number.")),
    "string_too_long": ("field_too_long", _("This field is too long.")),
    "string_pattern_mismatch": ("field_invalid", _("This field is not in the expected form.")),
    "extra_forbidden": ("field_unknown", _("This field is not part of the request.")),
}


def _problem(request: AppRequest, error: Any) -> Problem:
    field = ".".join(str(part) for part in error.get("loc", ())) or None
    known = _PROBLEMS.get(str(error.get("type")))
    if known is None:
        return Problem("field_invalid", str(error.get("msg", "Invalid value.")), field)
    code, message = known
    return Problem(code, translated(request, message), field)
