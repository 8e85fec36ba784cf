"""The JSON API's rules, which app/controllers/api/ applies to every operation: the two
ways in (modes.py), reading bodies (json_bodies.py), the one shape of errors
(errors.py), cross-origin calls (cors.py), passkey ceremonies and authenticator secrets
without a session (ceremonies.py, totp_setups.py), the schemas (schemas.py), the
declaration of operations (operations.py) and the OpenAPI document generated from them
(openapi.py)."""

from pyramid.config import Configurator


def includeme(config: Configurator) -> None:
    config.include(".cors")
    config.include(".ceremonies")
    config.include(".totp_setups")
