"""The services of signing in with another provider, built on first use for one unit
of work; part of app/services/composition.py's Services."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from app.services.kernel.secret_keys import UPSTREAM_SIGN_INS, fernet_for
from app.services.upstream.links import UpstreamLinks
from app.services.upstream.round_trips import UpstreamProviders, UpstreamRoundTrips
from app.settings import AppSettings

if TYPE_CHECKING:
    from app.services.accounts.accounts import AccountService
    from app.services.kernel.context import ServiceContext
    from app.services.mfa.passkeys import PasskeyService
    from app.services.notices.account_mail import AccountMail


def upstream_providers(settings: AppSettings) -> UpstreamProviders:
    """The configured providers, for the life of the process."""
    return UpstreamProviders(
        settings.upstream_providers,
        settings.base_url,
        fernet_for(settings.secret, UPSTREAM_SIGN_INS),
    )


class UpstreamServices:
    upstream_providers: UpstreamProviders
    allow_registration: bool

    if TYPE_CHECKING:
        # Built by Services, of which this is a part.
        @property
        def context(self) -> ServiceContext: ...

        @property
        def accounts(self) -> AccountService: ...

        @property
        def passkeys(self) -> PasskeyService: ...

        @property
        def mail(self) -> AccountMail: ...

    @cached_property
    def upstream_round_trips(self) -> UpstreamRoundTrips:
        return UpstreamRoundTrips(self.context, self.upstream_providers)

    @cached_property
    def upstream_links(self) -> UpstreamLinks:
        return UpstreamLinks(
            self.context,
            self.accounts,
            self.passkeys,
            self.mail,
            self.upstream_providers.labels,
            allow_registration=self.allow_registration,
        )
