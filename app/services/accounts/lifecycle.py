"""The services of an account's life beyond its sign-ins (the export of its data and its
deletion), built on first use for one unit of work;
part of app/services/composition.py's Services."""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from app.services.accounts.deletion import AccountDeletion
from app.services.accounts.export import AccountExport
from app.services.accounts.profile import ProfileService

if TYPE_CHECKING:
    from app.services.accounts.accounts import AccountService
    from app.services.kernel.context import ServiceContext
    from app.services.links.one_time_codes import OneTimeCodeService
    from app.services.notices.account_mail import AccountMail
    from app.services.sessions.login_sessions import LoginSessionService


class AccountLifecycleServices:
    if TYPE_CHECKING:
        # Built by Services, of which this is a part.
        deletion_grace: timedelta

        @property
        def context(self) -> ServiceContext: ...
        @property
        def accounts(self) -> AccountService: ...
        @property
        def codes(self) -> OneTimeCodeService: ...
        @property
        def login_sessions(self) -> LoginSessionService: ...
        @property
        def mail(self) -> AccountMail: ...

    @cached_property
    def account_export(self) -> AccountExport:
        return AccountExport(self.context)

    @cached_property
    def profile(self) -> ProfileService:
        return ProfileService(self.context)

    @cached_property
    def account_deletion(self) -> AccountDeletion:
        return AccountDeletion(
            self.context,
            self.accounts,
            self.codes,
            self.login_sessions,
            self.mail,
            grace=self.deletion_grace,
        )
