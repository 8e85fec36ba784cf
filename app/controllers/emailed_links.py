"""What every page behind an emailed link shares: the link's GET checks the code, keeps it
in the session (encrypted) and sends the browser to a URL without it, so that the code
does not linger in the address bar, history or a Referer header, and a mail scanner that
opens the link changes nothing; the page it leads to reads the code back from there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.controllers.base import ControllerBase, see_other
from app.i18n import translated
from app.services.kernel.errors import CodeInvalid, CodeUsed, RateLimited
from app.translation import _

LINK_INVALID_TEMPLATE = "app:templates/account/link_invalid.pt"


class NoPendingCode(CodeInvalid):
    """No code in the session: the page was opened without the emailed link."""

    code = "link_not_opened"
    message = _("Open the link from your email. If it has expired, ask for a new one.")


class EmailedLinkController(ControllerBase):
    # Set by each flow: where its code waits, the page its link leads to, and where to
    # ask for a new link.
    pending_key: str
    form_route: str
    again_route: str
    again_label: str

    def open_emailed_link(self, check: Callable[[str], Any]) -> Any:
        code = self.request.matchdict["code"]
        try:
            verdict = check(code)
        except RateLimited as exc:
            return self.too_many(exc)
        except CodeInvalid as exc:
            return self.link_invalid(exc)
        self.keep_pending_code(code, verdict)
        self.request.session.pop(self.used_key, None)
        return see_other(self.request, self.request.page_path(self.form_route))

    def keep_pending_code(self, code: str, verdict: Any) -> None:
        """Keep the checked code (encrypted) in the session for the page the link leads
        to. A flow whose page can be drawn from the check's verdict keeps that too."""
        self.request.pending_codes.keep(self.request.session, self.pending_key, code)

    @property
    def used_key(self) -> str:
        """Where the session notes that this browser used its link (a form still open in
        another tab is then told the link was used, not that it expired)."""
        return f"{self.pending_key}_used"

    def pending_code(self) -> str:
        """The code waiting in the session; raises CodeUsed if this browser used it,
        NoPendingCode if there is none."""
        code = self.request.pending_codes.read(self.request.session, self.pending_key)
        if code is None:
            if self.request.session.get(self.used_key):
                raise CodeUsed()
            raise NoPendingCode()
        return code

    def forget_pending_code(self, used: bool = False) -> None:
        """Drop the code from the session; `used`: because this browser just used it."""
        self.request.pending_codes.drop(self.request.session, self.pending_key)
        if used:
            self.request.session[self.used_key] = True

    def link_invalid(self, error: CodeInvalid) -> dict[str, Any]:
        """The page for an unknown, used, expired or missing code (400)."""
        self.forget_pending_code()
        self.request.response.status = 400
        self.request.override_renderer = LINK_INVALID_TEMPLATE
        return {
            "error": translated(self.request, error.message),
            "again_url": self.request.page_path(self.again_route),
            "again_label": translated(self.request, self.again_label),
        }
