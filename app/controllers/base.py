from __future__ import annotations

from pyramid.request import Request

from app.services.accounts import AccountService


class ControllerBase:
    def __init__(self, request: Request) -> None:
        self.request = request

    @property
    def accounts(self) -> AccountService:
        return self.request.accounts

    @property
    def client_ip(self) -> str | None:
        return self.request.client_addr

    def flash(self, message: str, queue: str = "success") -> None:
        self.request.session.flash(message, queue=queue)
