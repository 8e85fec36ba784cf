"""/account/export: everything held about the account, as one JSON file for its owner,
after a recent sign-in (docs/security.md 72)."""

from __future__ import annotations

import json
from typing import Any

from pyramid.response import Response
from pyramid.view import view_config

from app.controllers.base import ControllerBase
from app.security import PERMISSION_RECENTLY_SIGNED_IN
from app.services.kernel.errors import RateLimited

EXPORT_TEMPLATE = "app:templates/account/export.pt"


class AccountExportController(ControllerBase):
    @view_config(
        route_name="account.export",
        request_method="GET",
        renderer=EXPORT_TEMPLATE,
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def page(self) -> dict[str, Any]:
        return {}

    @view_config(
        route_name="account.export",
        request_method="POST",
        renderer=EXPORT_TEMPLATE,
        permission=PERMISSION_RECENTLY_SIGNED_IN,
    )
    def download(self) -> Response | dict[str, Any]:
        try:
            document = self.services.account_export.document(self.request.identity)
        except RateLimited as exc:
            return self.too_many(exc)
        body = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
        response = Response(body=body, content_type="application/json", charset="utf-8")
        response.headers["Content-Disposition"] = 'attachment; filename="account.json"'
        response.headers["Cache-Control"] = "no-store"
        return response
