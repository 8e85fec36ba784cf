"""What every page behind an emailed link shares: the link's GET checks the code, keeps it
in the session (encrypted) and sends the browser to a URL without it, so that the code
does not linger in the address bar, history or a Referer header, and a mail scanner that
opens the link changes nothing; the page it leads to reads the code back from there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.services.errors import CodeInvalid, RateLimited

from .base import ControllerBase, see_other

LINK_INVALID_TEMPLATE = "app:templates/account/link_invalid.pt"


class NoPendingCode(CodeInvalid):
    """No code in the session: the page was opened without the emailed link."""

    message = "Open the link from your email. If it has expired, ask for a new one."


class EmailedLinkController(ControllerBase):
    # Set by each flow: where its code waits, the page its link leads to, and where to
    # ask for a new link.
    pending_key: str
    form_route: str
    again_route: str
    again_label: str

    def open_emailed_link(self, check: Callable[[str], None]) -> Any:
        code = self.request.matchdict["code"]
        try:
            check(code)
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)
        self.request.pending_codes.keep(self.request.session, self.pending_key, code)
        return see_other(self.request, self.request.page_path(self.form_route))

    def pending_code(self) -> str:
        """The code waiting in the session; raises NoPendingCode if there is none."""
        code = self.request.pending_codes.read(self.request.session, self.pending_key)
        if code is None:
            raise NoPendingCode()
        return code

    def forget_pending_code(self) -> None:
        self.request.pending_codes.drop(self.request.session, self.pending_key)

    def link_invalid(self, error: CodeInvalid) -> dict[str, Any]:
        """The page for an unknown, used, expired or missing code (400)."""
        self.forget_pending_code()
        self.request.response.status = 400
        self.request.override_renderer = LINK_INVALID_TEMPLATE
        return {
            "error": str(error),
            "again_url": self.request.page_path(self.again_route),
            "again_label": self.again_label,
        }
