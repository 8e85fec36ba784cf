"""Loading the app from a config file for a console script, and running one unit of
work of its services."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from pyramid.paster import get_appsettings, setup_logging
from pyramid.router import Router
from pyramid.scripting import prepare
from sqlalchemy.exc import InterfaceError, OperationalError

from app import main
from app.services.composition import Services
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


@contextmanager
def unit_of_work(config_uri: str) -> Iterator[Services]:
    """The app's services on one transaction of the database named in CONFIG: committed
    when the block ends, rolled back if it raises."""
    app = load_app(config_uri, **{"mail.delivery": "manual"})
    env = prepare(registry=app.registry)
    request = env["request"]
    try:
        with request.tm:
            yield request.services
    except (OperationalError, InterfaceError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        fail(
            f"cannot reach the database ({reason}). Is it running, and are sqlalchemy.url"
            " (DATABASE_URL) and the migrations (alembic upgrade head) right?"
        )
    finally:
        env["closer"]()
        app.registry["db_engine"].dispose()


def print_json(value: object) -> None:
    print(json.dumps(value, indent=2))
