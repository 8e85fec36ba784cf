from __future__ import annotations

from typing import Any

from pyramid.view import view_config

from app.controllers.base import ControllerBase


class HomeController(ControllerBase):
    @view_config(route_name="home", request_method="GET", renderer="app:templates/home/index.pt")
    def index(self) -> dict[str, Any]:
        return {"allow_registration": self.request.registry["app_settings"].allow_registration}
