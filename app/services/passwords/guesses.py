"""How many wrong passwords an account takes, and from which browser.

Strangers who guess at an account share one allowance per account; a browser that has
signed in to the account before (a known device, by its cookie) has an allowance of its
own. So guessing can lock out every new browser, but not the owner in a browser of
theirs (OWASP's "slow down online guessing attacks with device cookies")."""

from __future__ import annotations

from dataclasses import dataclass

from app.models import Account, LoginSession
from app.services.kernel.codes import digest
from app.services.kernel.context import ContextService, ServiceContext
from app.services.kernel.email_addresses import normalize_email
from app.services.sessions.known_devices import KnownDeviceService
from app.settings.limits import SIGNIN_PER_ACCOUNT, SIGNIN_PER_DEVICE


@dataclass(frozen=True)
class Allowance:
    """The limit a password guess counts against, and the key it is counted under."""

    limit: str
    key: str


class PasswordGuessLimits(ContextService):
    def __init__(self, context: ServiceContext, devices: KnownDeviceService) -> None:
        super().__init__(context)
        self.devices = devices

    def allowance(
        self, email: str, account: Account | None, session: LoginSession | None = None
    ) -> Allowance:
        """The allowance of this browser for this address. Keyed by the address as typed
        (normalised) whether or not it has an account, so that being limited says
        nothing about which addresses exist."""
        token = self.context.origin.device_token
        if account is not None and token and self.devices.is_known(account.id, token):
            return Allowance(SIGNIN_PER_DEVICE, f"{account.id}:{digest(token)}")
        if (
            account is not None
            and session is not None
            and session.account_id == account.id
            and session.known_device_id is not None
        ):
            # A signed-in application has no device cookie: its session's device counts.
            return Allowance(SIGNIN_PER_DEVICE, f"{account.id}:session:{session.known_device_id}")
        return Allowance(SIGNIN_PER_ACCOUNT, normalize_email(email))

    def count(self, allowance: Allowance) -> None:
        """Count one guess before it is checked, so that a burst of parallel guesses
        cannot all slip past the limit; raises RateLimited when it is used up."""
        self.rate_limiter.hit(allowance.limit, allowance.key)

    def succeeded(self, allowance: Allowance) -> None:
        """The right password: the browser's failures no longer count."""
        self.rate_limiter.clear(allowance.limit, allowance.key)

    def reset_for_owner(self, email: str) -> None:
        """The owner proved the mailbox (a reset): failures by others no longer lock
        new browsers out."""
        self.rate_limiter.clear(SIGNIN_PER_ACCOUNT, normalize_email(email))
