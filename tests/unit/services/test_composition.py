"""The composition root: each setting reaches the part of the app that uses it, and the
parts a test (or another process) hands over are the ones used."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy.orm import Session, sessionmaker

from app.mail.sender import make_outbox_sender
from app.models import (
    PURPOSE_CHANGE_EMAIL,
    PURPOSE_INVITE,
    PURPOSE_NOT_ME,
    PURPOSE_RESET,
    PURPOSE_RESTORE,
    PURPOSE_SIGN_IN,
    PURPOSE_UNDO_EMAIL_CHANGE,
    PURPOSE_VERIFY_EMAIL,
)
from app.operations.pruning import make_pruner
from app.services.composition import ServiceFactory
from app.services.kernel.audit import RequestOrigin
from app.services.kernel.clock import SystemClock
from app.services.kernel.rate_limits import RateLimiter
from app.services.kernel.secret_keys import OUTBOX, TOTP_SECRETS, fernet_for
from app.services.links.link_policy import NOT_ME_LINK_LIFETIME, SIGN_IN_CODE_LIFETIME
from app.services.passwords.hashing import PasswordHasher
from app.settings.branding import BrandSettings
from tests.conftest import unit_settings
from tests.support import FakeClock

# Every value differs from its default, so a setting dropped on its way shows.
CUSTOM: dict[str, Any] = {
    "base_url": "https://login.shop.example:8443",
    "brand": BrandSettings(site_name="Corner Shop"),
    "log_reset_links": True,
    "reload_templates": True,
    "support_contact": "help@shop.example",
    "reset_code_minutes": 17,
    "invite_code_days": 3,
    "require_verified_email": False,
    "verify_email_days": 5,
    "unverified_days": 9,
    "password_min_length": 15,
    "password_min_strength": 4,
    "breach_check_url": "https://breaches.example/range/",
    "breach_check_timeout_seconds": 0.7,
    "session_idle_minutes": 45,
    "session_absolute_days": 6,
    "session_max_per_account": 4,
    "session_reauth_minutes": 8,
    "audit_retention_days": 99,
    "mail_sender": "Shop <accounts@shop.example>",
    "mail_retry_hours": 6.0,
    "mail_retry_seconds": 12.0,
}


@pytest.fixture
def factory() -> ServiceFactory:
    return ServiceFactory(unit_settings(**CUSTOM))


def test_the_password_rules_come_from_the_settings(factory: ServiceFactory) -> None:
    policy = factory.passwords.policy
    assert (policy.min_length, policy.min_strength) == (15, 4)
    assert policy.breaches is factory.breaches
    assert factory.breaches is not None
    assert factory.breaches.range_url == "https://breaches.example/range/"
    assert factory.breaches.timeout == 0.7


def test_without_a_breach_check_address_no_check_is_made() -> None:
    factory = ServiceFactory(unit_settings(breach_check_url=""))
    assert factory.breaches is None
    assert factory.passwords.policy.breaches is None


def test_the_session_rules_come_from_the_settings(factory: ServiceFactory) -> None:
    policy = factory.session_policy
    assert policy.idle == timedelta(minutes=45)
    assert policy.absolute == timedelta(days=6)
    assert policy.max_per_account == 4
    assert policy.reauthenticate_after == timedelta(minutes=8)


def test_each_kind_of_code_lives_as_long_as_its_setting_says(factory: ServiceFactory) -> None:
    codes = factory.code_policy
    assert codes.lifetimes == {
        PURPOSE_RESET: timedelta(minutes=17),
        PURPOSE_INVITE: timedelta(days=3),
        PURPOSE_VERIFY_EMAIL: timedelta(days=5),
        PURPOSE_CHANGE_EMAIL: timedelta(days=5),
        PURPOSE_NOT_ME: NOT_ME_LINK_LIFETIME,
        PURPOSE_UNDO_EMAIL_CHANGE: timedelta(days=7),
        PURPOSE_RESTORE: timedelta(days=7),
        PURPOSE_SIGN_IN: SIGN_IN_CODE_LIFETIME,
    }
    assert codes.base_url == "https://login.shop.example:8443"
    assert codes.log_links is True


def test_the_shop_is_named_to_authenticators_and_passkeys_by_its_name(
    factory: ServiceFactory,
) -> None:
    assert factory.site_name == "Corner Shop"
    party = factory.relying_party
    # The relying party's id is the host, whatever the name shown.
    assert (party.id, party.name) == ("login.shop.example", "Corner Shop")
    assert party.origin == "https://login.shop.example:8443"


def test_templates_are_read_again_when_they_change_only_if_the_settings_say_so(
    session_factory: sessionmaker[Session],
) -> None:
    for reload in (True, False):
        factory = ServiceFactory(unit_settings(reload_templates=reload))
        sender = make_outbox_sender(factory, session_factory, object())  # type: ignore[arg-type]
        assert sender.templates._loader.kwargs["auto_reload"] is reload


def test_each_purpose_has_its_own_key_made_from_the_sites_secret(
    factory: ServiceFactory,
) -> None:
    token = factory.cipher.encrypt(b"message body")
    assert factory.cipher.decrypt(token) == b"message body"
    with pytest.raises(InvalidToken):
        factory.totp_cipher.decrypt(token)
    # The authenticator secrets' key is the one derived for them, as every process of
    # the site derives it.
    sealed = factory.totp_cipher.encrypt(b"seed")
    assert fernet_for(unit_settings().secret, TOTP_SECRETS).decrypt(sealed) == b"seed"
    assert fernet_for(unit_settings().secret, OUTBOX).decrypt(token) == b"message body"
    other = ServiceFactory(unit_settings(secret="another-secret-of-the-site"))
    with pytest.raises(InvalidToken):
        other.cipher.decrypt(token)


def test_the_rate_limits_come_from_the_settings() -> None:
    factory = ServiceFactory(
        unit_settings(
            rate_limits={"signin_per_ip": "30/minute"},
            ratelimit_storage_uri="memory://",
            ratelimit_processes=4,
        )
    )
    limiter = factory.rate_limiter
    assert str(limiter.limits["signin_per_ip"]) == "30 per 1 minute"
    # While Redis is away, each of the four processes grants a quarter.
    assert str(limiter.outage_limits["signin_per_ip"]) == "7 per 1 minute"
    assert limiter.shared is None
    other = ServiceFactory(unit_settings(secret="another-secret-of-the-site")).rate_limiter
    # Keys are keyed with the site's secret: the same address gives another key.
    assert limiter._key("alice@example.com") != other._key("alice@example.com")


def test_the_parts_handed_over_are_the_ones_used(hasher: PasswordHasher) -> None:
    clock, limiter = FakeClock(), RateLimiter("memory://", secret="s")
    factory = ServiceFactory(unit_settings(), clock=clock, hasher=hasher, rate_limiter=limiter)
    assert factory.clock is clock
    assert factory.passwords.hasher is hasher
    assert factory.rate_limiter is limiter


def test_without_parts_handed_over_the_real_ones_are_made() -> None:
    factory = ServiceFactory(unit_settings())
    assert isinstance(factory.clock, SystemClock)
    assert isinstance(factory.passwords.hasher, PasswordHasher)
    assert isinstance(factory.rate_limiter, RateLimiter)


def test_the_outbox_sender_takes_its_address_and_retries_from_the_settings(
    factory: ServiceFactory, session_factory: sessionmaker[Session]
) -> None:
    transport = object()
    sender = make_outbox_sender(factory, session_factory, transport)  # type: ignore[arg-type]
    assert sender.session_factory is session_factory
    assert sender.transport is transport
    assert sender.sender_address == "Shop <accounts@shop.example>"
    assert sender.retry_for == timedelta(hours=6)
    assert sender.retry_seconds == 12.0
    # Not settings: waits between tries stop growing at an hour, and a claimed
    # message is someone else's for five minutes.
    assert (sender.max_backoff_seconds, sender.lease_seconds) == (3600.0, 300.0)
    assert (sender.cipher, sender.clock) == (factory.cipher, factory.clock)


def test_the_pruner_keeps_records_as_long_as_the_settings_say(
    factory: ServiceFactory, session_factory: sessionmaker[Session]
) -> None:
    pruner = make_pruner(factory, session_factory)
    assert pruner.session_factory is session_factory
    assert pruner.clock is factory.clock
    assert pruner.retention.events == timedelta(days=99)
    assert pruner.retention.unconfirmed_accounts == timedelta(days=9)
    assert pruner.session_absolute == timedelta(days=6)


def test_the_services_of_a_request_know_where_it_came_from_and_its_language(
    factory: ServiceFactory, dbsession: Session
) -> None:
    origin = RequestOrigin(ip="203.0.113.9", user_agent="Firefox")
    queued: list[str] = []

    def on_mail_queued() -> None:
        queued.append("mail")

    def locale() -> str:
        return "de"

    services = factory.services(dbsession, origin, on_mail_queued, locale)
    assert (services.factory, services.dbsession, services.origin) == (factory, dbsession, origin)
    assert services.on_mail_queued is on_mail_queued
    assert services.locale is locale
    assert services.audit.origin is origin

    plain = factory.services(dbsession)
    assert plain.origin == RequestOrigin()
    assert (plain.on_mail_queued, plain.locale) == (None, None)
