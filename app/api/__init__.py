"""The JSON API's rules, which app/controllers/api/ applies to every operation: the two
ways in (modes.py), reading bodies (json_bodies.py), the one shape of errors
(errors.py), cross-origin calls (cors.py), passkey ceremonies and authenticator secrets
without a session (ceremonies.py, totp_setups.py), the schemas (schemas.py), the
declaration of operations (operations.py) and the OpenAPI document generated from them
(openapi.py)."""

from typing import Any

from pyramid.config import Configurator

from app.web.request import is_api_request


class JsonApiPredicate:
    """`json_api=True` on a view: only for the JSON API's requests. Read from the raw WSGI
    path, so that it holds for a path that is not valid UTF-8 too (Pyramid's path_info
    predicate would raise there, in the middle of choosing the error page)."""

    def __init__(self, value: bool, config: Configurator) -> None:
        self.value = bool(value)

    def text(self) -> str:
        return f"json_api = {self.value}"

    phash = text

    def __call__(self, context: Any, request: Any) -> bool:
        return is_api_request(request) is self.value


def includeme(config: Configurator) -> None:
    config.add_view_predicate("json_api", JsonApiPredicate)
    config.include(".cors")
    config.include(".ceremonies")
    config.include(".totp_setups")
