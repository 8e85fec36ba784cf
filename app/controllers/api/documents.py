"""The OpenAPI document of the JSON API."""

from __future__ import annotations

from typing import Any

from pyramid.response import Response
from pyramid.view import view_config

from app.api.errors import JSON_MEDIA_TYPE
from app.api.openapi import document


@view_config(route_name="api.openapi", request_method="GET")
def openapi_document(request: Any) -> Response:
    response = Response(
        json_body=document(request.registry), content_type=JSON_MEDIA_TYPE, charset=None
    )
    response.cache_control = "public, max-age=300"
    return response
