"""The development server (development.ini's [server:main]): waitress, saying on start the
address to open, which is app.base_url. The address waitress listens on (127.0.0.1) is
another origin to a browser, and the forms of a page opened there cannot be sent."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pyramid.router import Router
from waitress import create_server

log = logging.getLogger(__name__)


def serve(global_conf: dict[str, Any], **settings: Any) -> Callable[[Router], None]:
    """A PasteDeploy server factory: waitress with the .ini file's settings."""

    def run(app: Router) -> None:
        server = create_server(app, **settings)
        log.info(
            "Serving on %s: open this address in a browser (app.base_url; pages opened at"
            " another address, such as 127.0.0.1, cannot send their forms)",
            app.registry["app_settings"].base_url,
        )
        server.run()

    return run
