"""The alert about a sign-in from a new browser, through NewDeviceAlerts (on SQLite and
PostgreSQL): what it records on the account, the link it makes, and what it queues."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import PURPOSE_NOT_ME, Account, AccountEvent, OneTimeCode, OutgoingEmail
from app.services.composition import ServiceFactory, Services
from app.services.kernel import audit as events
from app.services.kernel.audit import RequestOrigin
from app.services.notices.outbox import outbox_cipher
from app.services.passwords.hashing import PasswordHasher
from app.services.sessions.user_agents import MAX_LENGTH
from tests.conftest import SECRET, STRONG_PASSWORD, unit_settings
from tests.support import FakeClock
from tests.support.outbox import emails_to

OWNER = "owner@example.com"
IP = "203.0.113.9"


def _from_browser(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher, token: str, user_agent: str
) -> Services:
    factory = ServiceFactory(unit_settings(), clock=clock, hasher=hasher)
    origin = RequestOrigin(ip=IP, user_agent=user_agent, device_token=token)
    return factory.services(dbsession, origin)


def _owner_known_on_one_browser(dbsession, clock, hasher) -> Account:
    services = _from_browser(dbsession, clock, hasher, "laptop-token", "Laptop")
    owner = services.accounts.create_account(OWNER, STRONG_PASSWORD, email_verified=True)
    services.new_device_alerts.signed_in(owner)
    return owner


def test_a_sign_in_from_a_new_browser_is_recorded_on_the_account_with_a_link_from_its_address(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    owner = _owner_known_on_one_browser(dbsession, clock, hasher)

    phone = _from_browser(dbsession, clock, hasher, "phone-token", "Phone")
    phone.new_device_alerts.signed_in(owner)

    [alert] = dbsession.scalars(
        select(AccountEvent).where(AccountEvent.kind == events.NEW_DEVICE_SIGN_IN)
    )
    assert alert.account_id == owner.id
    [code] = dbsession.scalars(select(OneTimeCode).where(OneTimeCode.purpose == PURPOSE_NOT_ME))
    assert (code.account_id, code.created_ip) == (owner.id, IP)


def test_the_alert_carries_the_browsers_description_cut_to_its_limit(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    owner = _owner_known_on_one_browser(dbsession, clock, hasher)
    long_agent = "Mozilla/5.0 " + "x" * (3 * MAX_LENGTH)

    _from_browser(dbsession, clock, hasher, "kiosk-token", long_agent).new_device_alerts.signed_in(
        owner
    )

    [queued] = dbsession.scalars(
        select(OutgoingEmail).where(OutgoingEmail.template == "new_device")
    )
    params = json.loads(outbox_cipher(SECRET).decrypt(queued.payload or b""))
    assert params["user_agent"] == long_agent[:MAX_LENGTH]
    assert params["ip"] == IP


def test_the_hourly_number_of_alert_emails_is_each_accounts_own(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    limits = {"new_device_alerts_per_account": "1/hour"}
    factory = ServiceFactory(unit_settings(rate_limits=limits), clock=clock, hasher=hasher)
    first = factory.services(dbsession, RequestOrigin(ip=IP, device_token="known"))
    owners = [
        first.accounts.create_account(f"owner{n}@example.com", STRONG_PASSWORD) for n in range(2)
    ]
    for owner in owners:
        first.new_device_alerts.signed_in(owner)

    for n, user_agent in enumerate(("Phone", "Tablet")):
        browser = factory.services(
            dbsession, RequestOrigin(ip=IP, user_agent=user_agent, device_token=f"new-{n}")
        )
        for owner in owners:
            browser.new_device_alerts.signed_in(owner)

    # Each account had its one email, for the first new browser only.
    for owner in owners:
        assert len(emails_to(dbsession, owner.email)) == 1
    assert (
        len(
            dbsession.scalars(
                select(AccountEvent.id).where(AccountEvent.kind == events.NEW_DEVICE_SIGN_IN)
            ).all()
        )
        == 4
    )
