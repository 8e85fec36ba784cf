"""The one place that puts the services together, for the app, the scripts and the tests.

ServiceFactory holds what lives as long as the process (the settings read once, the
clock, the password hasher's worker threads, the rate-limit storage, compiled email
templates, the outbox key); Services builds, on first use, the services of one unit of
work (one request, one script run, one test) around its database session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import cached_property

from cryptography.fernet import Fernet
from sqlalchemy.orm import Session

from app.services.accounts.accounts import AccountService
from app.services.accounts.email_changes import EmailChangeService
from app.services.accounts.lifecycle import AccountLifecycleServices
from app.services.accounts.registration import RegistrationService
from app.services.admin.account_admin import AccountAdminService
from app.services.kernel.audit import AuditLog, RequestOrigin
from app.services.kernel.clock import Clock, SystemClock
from app.services.kernel.context import ServiceContext
from app.services.kernel.rate_limits import RateLimiter
from app.services.kernel.secret_keys import PENDING_SIGN_INS, TOTP_SECRETS, fernet_for
from app.services.links.link_policy import SIGN_IN_CODE_LIFETIME, code_policy
from app.services.links.one_time_codes import OneTimeCodeService
from app.services.mfa.passkeys import PasskeyService
from app.services.mfa.two_factor import TwoFactorService
from app.services.mfa.webauthn_protocol import RelyingParty
from app.services.notices.account_mail import AccountMail
from app.services.notices.outbox import Outbox, outbox_cipher
from app.services.oidc.composition import OidcProcessParts, OidcServices
from app.services.passwords.breaches import BreachedPasswords
from app.services.passwords.guesses import PasswordGuessLimits
from app.services.passwords.hashing import PasswordHasher
from app.services.passwords.passwords import Passwords
from app.services.passwords.policy import PasswordPolicy
from app.services.sessions.known_devices import KnownDeviceService
from app.services.sessions.login_sessions import LoginSessionService, SessionPolicy
from app.services.signin.authentication import AuthenticationService
from app.services.signin.email_codes import EmailedSignInCodes
from app.services.signin.flow import SignInFlow
from app.services.signin.new_device_alerts import NewDeviceAlerts
from app.services.upstream.composition import UpstreamServices, upstream_providers
from app.settings import AppSettings


class ServiceFactory:
    def __init__(
        self,
        settings: AppSettings,
        clock: Clock | None = None,
        hasher: PasswordHasher | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        # One client per process, keeping its connections to the service open.
        self.breaches = (
            BreachedPasswords(
                settings.breach_check_url, timeout=settings.breach_check_timeout_seconds
            )
            if settings.breach_check_url
            else None
        )
        self.passwords = Passwords(
            hasher=hasher or PasswordHasher(),
            policy=PasswordPolicy(
                min_length=settings.password_min_length,
                min_strength=settings.password_min_strength,
                breaches=self.breaches,
            ),
        )
        self.rate_limiter = rate_limiter or RateLimiter(
            storage_uri=settings.ratelimit_storage_uri,
            limits=settings.rate_limits,
            secret=settings.secret,
            processes=settings.ratelimit_processes,
        )
        self.cipher: Fernet = outbox_cipher(settings.secret)
        self.totp_cipher: Fernet = fernet_for(settings.secret, TOTP_SECRETS)
        self.pending_sign_in_cipher: Fernet = fernet_for(settings.secret, PENDING_SIGN_INS)
        self.oidc = OidcProcessParts.from_settings(settings, self.clock)
        self.upstream = upstream_providers(settings)
        # The name authenticator apps and passkeys show beside the account: the shop's.
        self.site_name = settings.brand.site_name
        self.relying_party = RelyingParty(
            id=settings.host, name=self.site_name, origin=settings.origin
        )
        self.session_policy = SessionPolicy(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(days=settings.session_absolute_days),
            max_per_account=settings.session_max_per_account,
            reauthenticate_after=timedelta(minutes=settings.session_reauth_minutes),
        )
        self.code_policy = code_policy(settings)
        self.api_code_policy = replace(self.code_policy, frontend_url=settings.api_frontend_url)

    def services(
        self,
        dbsession: Session,
        origin: RequestOrigin | None = None,
        on_mail_queued: Callable[[], None] | None = None,
        locale: Callable[[], str] | None = None,
    ) -> Services:
        """The services of one unit of work on this database session."""
        return Services(self, dbsession, origin or RequestOrigin(), on_mail_queued, locale)


class Services(OidcServices, UpstreamServices, AccountLifecycleServices):
    """Each service is built the first time it is asked for, then kept (the identity
    provider's in OidcServices, signing in with another provider's in UpstreamServices)."""

    def __init__(
        self,
        factory: ServiceFactory,
        dbsession: Session,
        origin: RequestOrigin,
        on_mail_queued: Callable[[], None] | None = None,
        locale: Callable[[], str] | None = None,
    ) -> None:
        self.factory = factory
        self.oidc_parts = factory.oidc
        self.upstream_providers = factory.upstream
        self.allow_registration = factory.settings.allow_registration
        self.deletion_grace = timedelta(days=factory.settings.deletion_grace_days)
        self.dbsession = dbsession
        self.origin = origin
        self.on_mail_queued = on_mail_queued
        # The request's language, asked only when an email needs it.
        self.locale = locale

    @property
    def clock(self) -> Clock:
        return self.factory.clock

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.dbsession, self.factory.clock, self.origin)

    @cached_property
    def context(self) -> ServiceContext:
        factory = self.factory
        return ServiceContext(
            self.dbsession, factory.clock, factory.rate_limiter, self.audit, self.origin
        )

    @cached_property
    def outbox(self) -> Outbox:
        return Outbox(
            self.dbsession,
            self.factory.cipher,
            self.factory.clock,
            self.on_mail_queued,
            default_locale=self.locale,
        )

    @cached_property
    def mail(self) -> AccountMail:
        settings = self.factory.settings
        return AccountMail(self.outbox, settings.base_url, settings.support_contact)

    @cached_property
    def login_sessions(self) -> LoginSessionService:
        factory = self.factory
        return LoginSessionService(
            self.dbsession,
            factory.clock,
            factory.session_policy,
            on_ended=self.sessions_ended,
        )

    @cached_property
    def devices(self) -> KnownDeviceService:
        return KnownDeviceService(self.dbsession, self.factory.clock)

    @cached_property
    def guesses(self) -> PasswordGuessLimits:
        return PasswordGuessLimits(self.context, self.devices)

    @cached_property
    def codes(self) -> OneTimeCodeService:
        factory = self.factory
        policy = factory.api_code_policy if self.origin.through_api else factory.code_policy
        return OneTimeCodeService(self.context, self.mail, policy)

    @cached_property
    def accounts(self) -> AccountService:
        return AccountService(
            self.context,
            self.factory.passwords,
            self.codes,
            self.login_sessions,
            self.mail,
            self.guesses,
        )

    @cached_property
    def authentication(self) -> AuthenticationService:
        return AuthenticationService(
            self.context,
            self.factory.passwords,
            self.accounts,
            self.guesses,
            self.two_factor,
            self.passkeys,
            support_contact=self.factory.settings.support_contact,
        )

    @cached_property
    def signin(self) -> SignInFlow:
        return SignInFlow(
            self.context,
            self.authentication,
            self.two_factor,
            self.passkeys,
            self.login_sessions,
            self.new_device_alerts,
            self.registration.send_another_link,
            self.factory.pending_sign_in_cipher,
            require_confirmed_email=self.factory.settings.require_verified_email,
        )

    @cached_property
    def email_codes(self) -> EmailedSignInCodes:
        return EmailedSignInCodes(self.context, self.accounts, self.mail, SIGN_IN_CODE_LIFETIME)

    @cached_property
    def two_factor(self) -> TwoFactorService:
        return TwoFactorService(
            self.context,
            self.factory.totp_cipher,
            self.mail,
            issuer=self.factory.site_name,
            other_factors=self.passkeys.has_passkeys,
        )

    @cached_property
    def passkeys(self) -> PasskeyService:
        return PasskeyService(self.context, self.factory.relying_party, self.mail)

    @cached_property
    def registration(self) -> RegistrationService:
        return RegistrationService(
            self.context,
            self.factory.passwords,
            self.accounts,
            self.codes,
            self.mail,
            self.guesses,
        )

    @cached_property
    def email_changes(self) -> EmailChangeService:
        return EmailChangeService(
            self.context,
            self.factory.passwords,
            self.accounts,
            self.codes,
            self.login_sessions,
            self.mail,
            self.guesses,
        )

    @cached_property
    def new_device_alerts(self) -> NewDeviceAlerts:
        return NewDeviceAlerts(
            self.context,
            self.devices,
            self.codes,
            self.mail,
            self.accounts,
            self.login_sessions,
            self.two_factor,
            self.passkeys,
        )

    @cached_property
    def admin(self) -> AccountAdminService:
        return AccountAdminService(
            self.context,
            self.accounts,
            self.login_sessions,
            self.devices,
            self.two_factor,
            self.passkeys,
        )
