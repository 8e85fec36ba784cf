"""The services of an account's life beyond its sign-ins (the export of its data today),
built on first use for one unit of work; part of app/services/composition.py's
Services."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from app.services.accounts.export import AccountExport

if TYPE_CHECKING:
    from app.services.kernel.context import ServiceContext


class AccountLifecycleServices:
    if TYPE_CHECKING:
        # Built by Services, of which this is a part.
        @property
        def context(self) -> ServiceContext: ...

    @cached_property
    def account_export(self) -> AccountExport:
        return AccountExport(self.context)
