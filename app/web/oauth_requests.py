"""Pyramid requests as Authlib's OAuth2Request: the one place the identity provider's
protocol code meets the web framework."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc6749.requests import OAuth2Payload
from webob.multidict import MultiDict

from app.web.request import AppRequest


class _Payload(OAuth2Payload):
    def __init__(self, values: MultiDict) -> None:
        self._values = values

    @property
    def data(self) -> dict[str, str]:
        # The first value of each; Authlib refuses repeated parameters through datalist.
        data: dict[str, str] = {}
        for key, value in self._values.items():
            if isinstance(value, str):
                data.setdefault(key, value)
        return data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        values: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in self._values.items():
            if isinstance(value, str):
                values[key].append(value)
        return values


class PyramidOAuth2Request(OAuth2Request):
    def __init__(self, request: AppRequest, values: MultiDict, form: Mapping[str, Any]) -> None:
        # The URL as the public knows it (app.base_url), never the Host header's.
        super().__init__(
            method=request.method,
            uri=request.app_settings.origin + request.path_qs,
            headers=request.headers,
        )
        self.payload = _Payload(values)
        self._form = form
        self._args = request.GET

    @property
    def args(self) -> Mapping[str, Any]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return {k: v for k, v in self._form.items() if isinstance(v, str)}


def authorization_request(request: AppRequest) -> PyramidOAuth2Request:
    """An authorization request: its parameters are the query string's (a consent
    form posts back to the same URL; its own fields are not the protocol's)."""
    return PyramidOAuth2Request(request, request.GET, {})


def token_request(request: AppRequest) -> PyramidOAuth2Request:
    """A request to the token, revocation or introspection endpoint: a form body."""
    return PyramidOAuth2Request(request, request.POST, request.POST)
