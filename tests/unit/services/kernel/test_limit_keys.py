"""The keys the limits count a client or an address under (docs/security.md 12, 13, 29)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.models import OneTimeCode
from app.services.composition import ServiceFactory
from app.services.kernel.audit import RequestOrigin
from app.services.kernel.errors import RateLimited, SignInFailed
from app.services.kernel.rate_limits import address_key
from app.services.passwords.hashing import PasswordHasher
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, unit_settings
from tests.support import FakeClock
from tests.support.records import count


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::1", "::/64"),
        (None, ""),
        ("", ""),
    ],
)
def test_a_client_is_counted_by_its_ipv4_address_or_its_ipv6_64(address, key):
    assert address_key(address) == key


# The same address typed in another case or with spaces around it must count against the
# same allowance: otherwise each spelling would get a fresh set of guesses.
SPELLINGS = [
    "alice@example.com",
    "Alice@Example.com",
    "  ALICE@EXAMPLE.COM ",
    "alice@example.com\t",
]


def _limited_services(dbsession: Session, clock: FakeClock, hasher: PasswordHasher, **limits: str):
    factory = ServiceFactory(unit_settings(rate_limits=limits), clock=clock, hasher=hasher)
    return factory, factory.services(dbsession, RequestOrigin(ip="198.51.100.23"))


@pytest.mark.parametrize("existing", [True, False], ids=["account", "no-account"])
def test_failed_sign_ins_count_against_one_allowance_whatever_the_spelling_of_the_address(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher, existing: bool
) -> None:
    factory, services = _limited_services(
        dbsession, clock, hasher, signin_per_account=f"{len(SPELLINGS)}/hour"
    )
    if existing:
        services.accounts.create_account(SPELLINGS[0], STRONG_PASSWORD)
    for spelling in SPELLINGS:
        with pytest.raises(SignInFailed):
            services.signin.with_password(spelling, "a wrong password guess")

    for spelling in SPELLINGS:
        other_browser = factory.services(dbsession, RequestOrigin(ip="192.0.2.9"))
        with pytest.raises(RateLimited):
            other_browser.signin.with_password(spelling, STRONG_PASSWORD)


def test_a_reset_clears_the_failures_typed_in_any_spelling_of_the_address(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    _, services = _limited_services(dbsession, clock, hasher, signin_per_account="2/hour")
    services.accounts.create_account(SPELLINGS[0], STRONG_PASSWORD)
    for spelling in SPELLINGS[1:3]:
        with pytest.raises(SignInFailed):
            services.signin.with_password(spelling, "a wrong password guess")
    code = services.accounts.create_reset_code(SPELLINGS[3], None)
    assert code is not None

    services.accounts.reset_password(code, OTHER_PASSWORD)

    assert services.signin.with_password(SPELLINGS[2], OTHER_PASSWORD).account.email == SPELLINGS[0]


def test_reset_requests_count_against_one_allowance_whatever_the_spelling_of_the_address(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    _, services = _limited_services(dbsession, clock, hasher, forgot_per_email="3/hour")
    services.accounts.create_account(SPELLINGS[0], STRONG_PASSWORD)
    for spelling in SPELLINGS[:3]:
        assert services.accounts.request_password_reset(spelling) is True

    for spelling in SPELLINGS:
        with pytest.raises(RateLimited):
            services.accounts.request_password_reset(spelling)
    assert count(dbsession, OneTimeCode) == 3


def test_a_signed_in_sessions_device_has_its_own_allowance_and_only_for_its_account(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    """An application's session has no device cookie: the device it signed in as gives
    its own allowance, as a known browser's cookie does; another account's session, or a
    session without a device, falls back to the address's."""
    _, services = _limited_services(dbsession, clock, hasher)
    alice = services.accounts.create_account("alice@example.com", STRONG_PASSWORD)
    bob = services.accounts.create_account("bob@example.com", STRONG_PASSWORD)
    device = services.devices.remember(alice, None)
    _token, session = services.login_sessions.start(alice, None, None)
    guesses = services.guesses
    assert guesses.allowance(alice.email, alice, session).key == "alice@example.com"
    session.known_device_id = device.id
    own = guesses.allowance(alice.email, alice, session)
    assert own.key == f"{alice.id}:session:{session.known_device_id}"
    assert own.limit != guesses.allowance(alice.email, alice).limit
    assert guesses.allowance(bob.email, bob, session).key == "bob@example.com"
    assert guesses.allowance(alice.email, None, session).key == "alice@example.com"
