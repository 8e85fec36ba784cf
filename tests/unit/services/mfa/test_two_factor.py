"""Second factors and re-authentication: the events and emails each change leaves, the
refusals with their messages, and whose allowance a failed re-authentication uses (each
test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from app.mail.templates import MailTemplates
from app.models import Account, RecoveryCode
from app.services.composition import ServiceFactory, Services
from app.services.kernel import audit as events
from app.services.kernel.audit import RequestOrigin
from app.services.kernel.codes import digest
from app.services.kernel.errors import (
    AdminActionRefused,
    InvalidSecondFactorCode,
    PasskeyRefused,
    RateLimited,
    SignInFailed,
    WrongCurrentPassword,
)
from app.services.mfa.two_factor import normalize_recovery_code
from app.services.passwords.hashing import PasswordHasher
from app.services.signin.authentication import password_fingerprint
from tests.conftest import BASE_URL, OTHER_PASSWORD, STRONG_PASSWORD, unit_settings
from tests.factories import EMAIL, add_recovery_codes, add_totp
from tests.support import FakeClock, waiting_sign_in
from tests.support.outbox import body_text, emails_to
from tests.support.records import recorded_as, recovery_codes_of


def test_new_recovery_codes_are_recorded_and_the_owner_told_when_and_where_to_act(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    add_totp(services, alice)

    services.two_factor.new_recovery_codes(alice)

    assert recorded_as(dbsession, events.RECOVERY_CODES_RENEWED) == [(alice.id, None, {})]
    [mail] = [m for m in emails_to(dbsession, EMAIL) if m.template == "recovery_codes_renewed"]
    text = " ".join(body_text(mail).split())
    assert f"account {EMAIL} on Jan 15, 2026, 9:00 AM UTC." in text
    assert f"{BASE_URL}/account/forgot_password" in text


def test_turning_the_app_off_for_a_lost_phone_leaves_nothing_of_it_and_touches_no_one_else(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    bob = services.accounts.create_account("bob@example.com", STRONG_PASSWORD)
    admin = services.accounts.create_account("root@example.com", STRONG_PASSWORD, is_admin=True)
    for account in (alice, bob):
        add_totp(services, account)

    services.admin.remove_two_factor(alice, actor=admin)

    dbsession.commit()
    dbsession.expire_all()
    assert (alice.totp_secret, alice.totp_last_step, alice.totp_enabled_at) == (None, None, None)
    assert (recovery_codes_of(dbsession, alice), recovery_codes_of(dbsession, bob)) == (0, 10)
    assert recorded_as(dbsession, events.SECOND_FACTOR_REMOVED) == [
        (alice.id, admin.id, {"factor": "totp"})
    ]
    with pytest.raises(AdminActionRefused) as refused:
        services.admin.remove_two_factor(alice, actor=admin)
    assert str(refused.value) == "This account has no second factor to remove."


def test_a_reauthentication_is_recorded_either_way(
    services: Services, alice: Account, dbsession: Session
) -> None:
    with pytest.raises(WrongCurrentPassword):
        services.authentication.reauthenticate(alice, OTHER_PASSWORD, "")
    services.authentication.reauthenticate(alice, STRONG_PASSWORD, "")

    assert recorded_as(dbsession, events.SIGN_IN_FAILED) == [
        (alice.id, None, {"reason": "reauthentication"})
    ]
    assert recorded_as(dbsession, events.REAUTHENTICATED) == [(alice.id, None, {})]


def _browser(factory: ServiceFactory, dbsession: Session, token: str | None) -> Services:
    return factory.services(dbsession, RequestOrigin(ip="198.51.100.9", device_token=token))


@pytest.mark.parametrize("known", [False, True], ids=["new browser", "known browser"])
def test_failed_reauthentications_use_up_the_browsers_own_allowance(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher, known: bool
) -> None:
    limits = {"signin_per_account": "2/hour", "signin_per_device": "2/hour"}
    factory = ServiceFactory(unit_settings(rate_limits=limits), clock=clock, hasher=hasher)
    setup = factory.services(dbsession)
    alice = setup.accounts.create_account(EMAIL, STRONG_PASSWORD, email_verified=True)
    token = setup.devices.remember(alice, None).token if known else None
    owner = _browser(factory, dbsession, token)

    for _ in range(2):
        with pytest.raises(WrongCurrentPassword):
            owner.authentication.reauthenticate(alice, OTHER_PASSWORD, "")
    with pytest.raises(RateLimited):
        owner.authentication.reauthenticate(alice, STRONG_PASSWORD, "")

    stranger = _browser(factory, dbsession, None)
    if known:
        assert stranger.signin.with_password(EMAIL, STRONG_PASSWORD).account is alice
    else:
        with pytest.raises(RateLimited):
            stranger.signin.with_password(EMAIL, STRONG_PASSWORD)


def test_the_email_about_a_new_address_says_when_in_utc() -> None:
    content = MailTemplates().render(
        "email_changed",
        {"email": EMAIL, "new_email": "n***@example.org", "when": "2026-03-07T14:05:59+00:00"},
    )

    assert "to n***@example.org on Mar 7, 2026, 2:05 PM UTC. Emails" in " ".join(
        content.text.split()
    )


def test_a_recovery_code_works_once_for_its_own_account_and_is_recorded_with_those_left(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    bob = services.accounts.create_account("bob@example.com", STRONG_PASSWORD)
    add_totp(services, alice)
    codes = services.two_factor.new_recovery_codes(alice)

    assert services.two_factor.use_recovery_code(bob, codes[0]) is False
    assert services.two_factor.use_recovery_code(alice, codes[0][:-1]) is False
    assert services.two_factor.use_recovery_code(alice, codes[0]) is True
    assert services.two_factor.use_recovery_code(alice, codes[0]) is False

    assert recorded_as(dbsession, events.RECOVERY_CODE_USED) == [(alice.id, None, {"left": 9})]


def test_a_passkey_cannot_be_renamed_to_nothing(services: Services) -> None:
    with pytest.raises(PasskeyRefused) as refused:
        services.passkeys.rename(None, " \t ")  # type: ignore[arg-type]

    assert str(refused.value) == "Give the passkey a name."


def test_an_authenticator_code_is_taken_only_for_an_account_with_the_app(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    assert services.two_factor.use_totp_code(alice, "123456") is False


def test_a_code_used_by_one_account_leaves_the_others_last_step_alone(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    bob = services.accounts.create_account("bob@example.com", STRONG_PASSWORD)
    add_totp(services, alice)
    add_totp(services, bob)
    dbsession.commit()
    bobs_step = bob.totp_last_step
    clock.advance(seconds=60)
    secret = services.two_factor.cipher.decrypt(alice.totp_secret).decode("ascii")

    assert services.two_factor.use_totp_code(alice, pyotp.TOTP(secret).at(clock.now())) is True

    dbsession.commit()
    dbsession.expire_all()
    assert bob.totp_last_step == bobs_step


def test_a_code_checked_while_the_app_is_turned_off_elsewhere_is_refused(
    services: Services,
    alice: Account,
    dbsession: Session,
    other_dbsession: Session,
    clock: FakeClock,
) -> None:
    add_totp(services, alice)
    dbsession.commit()
    clock.advance(seconds=60)
    secret = services.two_factor.cipher.decrypt(alice.totp_secret).decode("ascii")
    turned_off: list[bool] = []

    def owner_turns_the_app_off_first(state: Any) -> None:
        if state.is_update and not turned_off:
            turned_off.append(True)
            other_dbsession.execute(update(Account).values(totp_secret=None))
            other_dbsession.commit()

    event.listen(dbsession, "do_orm_execute", owner_turns_the_app_off_first)
    try:
        accepted = services.two_factor.use_totp_code(alice, pyotp.TOTP(secret).at(clock.now()))
    finally:
        event.remove(dbsession, "do_orm_execute", owner_turns_the_app_off_first)

    assert turned_off and accepted is False


def _code_now(services: Services, account: Account, clock: FakeClock) -> str:
    secret = services.two_factor.cipher.decrypt(account.totp_secret).decode("ascii")
    return pyotp.TOTP(secret).at(clock.now())


def test_the_second_step_records_which_factor_signed_in(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    add_totp(services, alice)
    [recovery, *_] = services.two_factor.new_recovery_codes(alice)
    fingerprint = password_fingerprint(alice)
    clock.advance(seconds=60)
    typed = _code_now(services, alice, clock)

    pending = waiting_sign_in(alice.id, fingerprint, clock.now())
    with_app = services.signin.with_code(pending, typed[:3] + " " + typed[3:])
    assert (with_app.account, with_app.method.factors) == (alice, ("password", "totp"))
    # That sign-in spent the pending one: the next starts after it.
    again = waiting_sign_in(alice.id, fingerprint, clock.now(), sign_ins=1)
    with_recovery = services.signin.with_code(again, recovery)
    assert with_recovery.method.factors == ("password", "recovery")
    methods = [d["method"] for _, _, d in recorded_as(dbsession, events.SIGN_IN)]
    assert methods == ["password+totp", "password+recovery"]


@pytest.mark.parametrize(
    "typed", ["22222-33333-44444-55555", "22222 33333 44444 55555"], ids=["dashes", "spaces"]
)
def test_a_recovery_code_of_digits_only_is_still_taken_as_a_recovery_code(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock, typed: str
) -> None:
    add_totp(services, alice)
    dbsession.add(
        RecoveryCode(
            account_id=alice.id,
            code_hash=digest(normalize_recovery_code("22222-33333-44444-55555")),
            created_at=clock.now(),
        )
    )
    dbsession.flush()

    assert services.two_factor.verify(alice, typed) == "recovery"


def test_a_wrong_second_factor_code_is_recorded_and_limited_per_account(
    dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    limits = {"second_factor_per_account": "1/hour"}
    services = ServiceFactory(
        unit_settings(rate_limits=limits), clock=clock, hasher=hasher
    ).services(dbsession)
    alice = services.accounts.create_account(EMAIL, STRONG_PASSWORD)
    bob = services.accounts.create_account("bob@example.com", STRONG_PASSWORD)

    with pytest.raises(InvalidSecondFactorCode):
        services.two_factor.verify(alice, "000000")
    with pytest.raises(RateLimited):
        services.two_factor.verify(alice, "000000")
    with pytest.raises(InvalidSecondFactorCode):
        services.two_factor.verify(bob, "000000")

    assert [a for a, _, _ in recorded_as(dbsession, events.SECOND_FACTOR_FAILED)] == [
        alice.id,
        bob.id,
    ]


def test_a_pending_sign_in_with_a_code_expires_like_one_with_a_passkey(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    add_totp(services, alice)
    fingerprint = password_fingerprint(alice)
    alice.is_disabled = True
    dbsession.flush()

    with pytest.raises(SignInFailed) as refused:
        services.signin.with_code(waiting_sign_in(alice.id, fingerprint, clock.now()), "123456")
    assert str(refused.value) == "Your sign-in has expired. Sign in again."


def test_the_authenticator_app_is_given_the_account_and_the_site_by_name(
    services: Services, alice: Account
) -> None:
    uri = services.two_factor.provisioning_uri(alice, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")

    # The shop's name (app.site_name, "Accounts" unless set), as the app lists it.
    assert uri == (
        "otpauth://totp/Accounts:alice%40example.com"
        "?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Accounts"
    )


def test_the_qr_code_is_inline_svg_without_an_xml_declaration(services: Services) -> None:
    svg = services.two_factor.qr_code_svg(
        "otpauth://totp/x?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "QR"
    )

    assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert "<title>QR</title>" in svg


def _dark_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules (column, row) of a QR code drawn as one SVG path of horizontal
    runs, in modules, quiet zone included."""
    path = re.search(r' d="([^"]+)"', svg)
    assert path is not None
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for command, first, second in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path[1]):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            dark.update((int(x) + i, int(y)) for i in range(int(first)))
            x += int(first)
    return dark


def _error_correction_level(dark: set[tuple[int, int]], border: int) -> str:
    """The level a reader finds in the format information beside the top-left finder
    pattern (ISO/IEC 18004, 7.9), checked against its BCH code."""
    places = [(8, c) for c in range(6)] + [(8, 7), (8, 8), (7, 8)]
    places += [(r, 8) for r in range(5, -1, -1)]
    bits = 0
    for row, column in places:
        bits = bits << 1 | ((column + border, row + border) in dark)
    bits ^= 0b101010000010010
    check = bits
    for i in range(14, 9, -1):
        if check >> i & 1:
            check ^= 0b10100110111 << (i - 10)
    assert check == 0, "not a format information"
    return {0b01: "L", 0b00: "M", 0b11: "Q", 0b10: "H"}[bits >> 13]


def test_the_qr_code_is_drawn_to_be_scanned_from_a_screen(
    services: Services, alice: Account
) -> None:
    uri = services.two_factor.provisioning_uri(alice, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")

    svg = services.two_factor.qr_code_svg(uri, "QR")

    dark = _dark_modules(svg)
    border = min(x for x, _ in dark)
    modules = max(x for x, _ in dark) - border + 1
    assert border == min(y for _, y in dark) == 2
    assert (modules - 17) % 4 == 0
    size = (modules + 2 * border) * 4
    assert f'width="{size}" height="{size}"' in svg
    assert _error_correction_level(dark, border) == "M"


def test_turning_the_app_on_is_recorded_and_its_code_cannot_be_used_again(
    services: Services, alice: Account, dbsession: Session, clock: FakeClock
) -> None:
    secret = services.two_factor.new_totp_secret()
    code = pyotp.TOTP(secret).at(clock.now())
    with pytest.raises(InvalidSecondFactorCode) as refused:
        services.two_factor.enable_totp(alice, secret, "000000" if code != "000000" else "111111")
    assert str(refused.value) == (
        "That code does not match. Check the time on your phone, and type the"
        " code the app shows now."
    )

    services.two_factor.enable_totp(alice, secret, code)

    assert recorded_as(dbsession, events.SECOND_FACTOR_ADDED) == [
        (alice.id, None, {"factor": "totp"})
    ]
    assert services.two_factor.use_totp_code(alice, code) is False


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
def test_an_authenticator_code_is_accepted_one_step_either_side_of_now_and_no_further(
    services: Services, alice: Account, clock: FakeClock, steps: int, accepted: bool
) -> None:
    add_totp(services, alice)
    clock.advance(minutes=10)
    secret = services.two_factor.cipher.decrypt(alice.totp_secret).decode("ascii")
    code = pyotp.TOTP(secret).at(clock.now(), counter_offset=steps)

    assert services.two_factor.use_totp_code(alice, code) is accepted


def test_a_code_is_a_second_factor_with_an_authenticator_app_or_a_recovery_code_left(
    services: Services, alice: Account, clock: FakeClock, dbsession: Session
) -> None:
    assert services.two_factor.takes_codes(alice) is False
    [last, *others] = add_recovery_codes(services, alice)
    dbsession.execute(
        update(RecoveryCode)
        .where(RecoveryCode.code_hash != digest(normalize_recovery_code(last)))
        .values(used_at=clock.now())
    )
    # One recovery code left is enough.
    assert services.two_factor.recovery_codes_left(alice.id) == 1
    assert services.two_factor.takes_codes(alice) is True
    services.two_factor.use_recovery_code(alice, last)
    assert services.two_factor.takes_codes(alice) is False
    add_totp(services, alice)
    assert services.two_factor.takes_codes(alice) is True


@pytest.mark.parametrize("shown", ["{0} {1}", " {0}{1} ", "{0}\u00a0{1}", "{0}\t{1}"])
def test_the_set_up_takes_a_code_typed_as_apps_show_it(
    services: Services, alice: Account, clock: FakeClock, shown: str
) -> None:
    secret = services.two_factor.new_totp_secret()
    code = pyotp.TOTP(secret).at(clock.now())
    services.two_factor.enable_totp(alice, secret, shown.format(code[:3], code[3:]))
    assert alice.totp_enabled_at is not None


def test_the_set_up_refuses_a_code_of_other_digits_spaced_out(
    services: Services, alice: Account, clock: FakeClock
) -> None:
    secret = services.two_factor.new_totp_secret()
    code = pyotp.TOTP(secret).at(clock.now())
    with pytest.raises(InvalidSecondFactorCode):
        services.two_factor.enable_totp(alice, secret, f"{code[:3]} {code[3:]}0")
    assert alice.totp_enabled_at is None
