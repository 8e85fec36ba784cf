"""development.ini's server says on start the address to open (app.base_url), not the
address waitress listens on, where the forms of a page cannot be sent."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from app.web import serving


def test_the_development_server_says_the_address_to_open(monkeypatch, caplog) -> None:
    made: list[dict[str, object]] = []

    class Server:
        def __init__(self, app: object, **settings: object) -> None:
            made.append({"app": app, **settings})

        def run(self) -> None:
            made.append({"ran": True})

    monkeypatch.setattr(serving, "create_server", Server)
    app = SimpleNamespace(
        registry={"app_settings": SimpleNamespace(base_url="http://localhost:7201")}
    )
    run = serving.serve({"here": "."}, listen="localhost:7201", threads="4")
    with caplog.at_level(logging.INFO, logger="app.web.serving"):
        run(app)  # type: ignore[arg-type]
    assert made == [{"app": app, "listen": "localhost:7201", "threads": "4"}, {"ran": True}]
    [line] = caplog.messages
    assert line.startswith("Serving on http://localhost:7201: open this address")
    assert "127.0.0.1" in line
