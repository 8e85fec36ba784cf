"""Loading the app from a config file for a console script."""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn

from pyramid.paster import get_appsettings, setup_logging
from pyramid.router import Router

from app import main
from app.settings import INI_VARIABLES


def load_app(config_uri: str, **overrides: str) -> Router:
    """The WSGI app built from CONFIG, with settings overridden for a script; exits
    with a clear message when the file is missing or a setting is wrong."""
    path = config_uri.split("#", 1)[0]
    if not os.path.isfile(path):
        fail(f"No such config file: {path}")
    setup_logging(config_uri)
    settings: dict[str, Any] = dict(get_appsettings(config_uri, name="main", options=INI_VARIABLES))
    settings.update(overrides)
    return main({"__file__": path}, **settings)


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)
