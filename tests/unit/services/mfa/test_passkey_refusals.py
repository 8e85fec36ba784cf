"""What a refused passkey answer tells and records (on SQLite and PostgreSQL): each
refusal is recorded on the account the answer was for, and says why in its own words."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Account, AccountEvent
from app.services.composition import Services
from app.services.kernel import audit as events
from app.services.kernel.errors import PasskeyRefused
from app.services.mfa.webauthn_protocol import CEREMONY_SECONDS
from tests.conftest import BASE_URL
from tests.factories import add_passkey, passkey_answer
from tests.passkey_authenticator import SoftAuthenticator
from tests.support.records import account_events


@pytest.fixture
def key(services: Services, alice: Account) -> SoftAuthenticator:
    return add_passkey(services, alice, "Key")


def _refusals(dbsession: Session) -> list[tuple[int | None, Any]]:
    return [
        (e.account_id, (e.details or {}).get("reason"))
        for e in account_events(dbsession, events.PASSKEY_REFUSED)
    ]


def _refused(services: Services, *args: Any) -> str:
    with pytest.raises(PasskeyRefused) as refused:
        services.passkeys.verify(*args, require_user_verification=False)
    return str(refused.value)


def test_a_second_factor_answer_without_a_user_handle_is_accepted(services, alice, key) -> None:
    # Security keys used as a second factor need not say whose they are.
    answer, challenge = passkey_answer(services, key, alice)
    answer["response"].pop("userHandle")

    passkey = services.passkeys.verify(answer, challenge, alice, require_user_verification=False)

    assert passkey.account_id == alice.id


def test_a_passkey_that_names_another_user_is_refused_and_recorded_on_its_owner(
    services, alice, key, dbsession
) -> None:
    answer, challenge = passkey_answer(services, key, None)
    answer["response"]["userHandle"] = "c29tZW9uZSBlbHNl"

    assert _refused(services, answer, challenge) == "This passkey does not belong to this account."
    assert _refusals(dbsession) == [(alice.id, "user handle")]


def test_a_removed_passkey_is_said_to_be_unknown_here(services, alice, key, dbsession) -> None:
    answer, challenge = passkey_answer(services, key, alice)
    [passkey] = services.passkeys.for_account(alice.id)
    services.passkeys.remove(alice, passkey)

    assert _refused(services, answer, challenge, alice) == (
        "This passkey is not known here. It may have been removed."
    )


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("no challenge", "The passkey request has expired. Try again."),
        ("challenge replayed", "The passkey request was already answered. Try again."),
        (
            "unreadable answer",
            "This passkey could not be used here. Try again, or use your password.",
        ),
    ],
)
def test_a_refused_second_factor_answer_is_recorded_on_the_account_it_was_for(
    services, alice, key, dbsession, what, message
) -> None:
    answer, challenge = passkey_answer(services, key, alice)
    if what == "no challenge":
        challenge = None
    elif what == "challenge replayed":
        services.passkeys.verify(answer, challenge, alice, require_user_verification=False)
    else:
        answer = {"id": "not an answer"}

    assert _refused(services, answer, challenge, alice) == message

    [(account_id, _)] = _refusals(dbsession)
    assert account_id == alice.id


@pytest.mark.parametrize(
    ("answer", "reason"),
    [("not json", "The answer is not JSON"), ("[1, 2]", "The answer is not a JSON object")],
)
def test_an_answer_that_is_not_a_json_object_is_refused_and_the_reason_recorded(
    services, alice, key, dbsession, answer, reason
) -> None:
    _, challenge = passkey_answer(services, key, alice)

    _refused(services, answer, challenge, alice)

    assert _refusals(dbsession) == [(alice.id, reason)]


def test_an_answer_sent_as_json_text_is_read_like_one_sent_as_an_object(
    services, alice, key
) -> None:
    answer, challenge = passkey_answer(services, key, alice)

    passkey = services.passkeys.verify(
        json.dumps(answer), challenge, alice, require_user_verification=False
    )

    assert passkey.account_id == alice.id


def test_passkeys_added_without_a_name_are_numbered_and_each_addition_recorded(
    services, alice, key, dbsession
) -> None:
    phone = SoftAuthenticator(origin=BASE_URL)
    adding = services.passkeys.registration_ceremony(alice)
    services.passkeys.add(
        alice, phone.create(json.loads(adding.options_json)), adding.challenge, ""
    )

    assert [p.name for p in services.passkeys.for_account(alice.id)] == ["Key", "Passkey 2"]
    added = dbsession.scalars(
        select(AccountEvent).where(AccountEvent.kind == events.PASSKEY_ADDED)
    ).all()
    assert [(e.account_id, e.details) for e in added] == [
        (alice.id, {"name": "Key"}),
        (alice.id, {"name": "Passkey 2"}),
    ]


@pytest.mark.parametrize("what", ["no challenge", "unreadable answer"])
def test_a_refused_passkey_addition_is_recorded_on_the_account_with_its_reason(
    services, alice, dbsession, what
) -> None:
    adding = services.passkeys.registration_ceremony(alice)
    created = SoftAuthenticator(origin=BASE_URL).create(json.loads(adding.options_json))
    challenge = None if what == "no challenge" else adding.challenge
    if what == "unreadable answer":
        created = "not json"

    with pytest.raises(PasskeyRefused):
        services.passkeys.add(alice, created, challenge, "Key")

    [(account_id, reason)] = _refusals(dbsession)
    assert account_id == alice.id
    assert reason == ("no challenge" if what == "no challenge" else "The answer is not JSON")


def test_an_answer_from_a_frame_of_another_site_is_refused_and_the_reason_recorded(
    services, alice, key, dbsession
) -> None:
    ceremony = services.passkeys.authentication_ceremony(alice)
    answer = key.get(json.loads(ceremony.options_json), cross_origin=True)

    _refused(services, answer, ceremony.challenge, alice)

    assert _refusals(dbsession) == [(alice.id, "Ceremony run in a frame of another site")]


def test_a_new_passkey_must_be_discoverable_and_verify_its_user(services, alice) -> None:
    options = json.loads(services.passkeys.registration_ceremony(alice).options_json)

    selection = options["authenticatorSelection"]
    assert (selection["residentKey"], selection["userVerification"]) == ("required", "required")
    assert options["user"]["displayName"] == alice.email


def test_the_ways_a_passkey_can_be_reached_are_offered_back_when_signing_in(
    services, alice
) -> None:
    adding = services.passkeys.registration_ceremony(alice)
    created = SoftAuthenticator(origin=BASE_URL).create(json.loads(adding.options_json))
    created["response"]["transports"] = ["usb", "nfc"]
    services.passkeys.add(alice, created, adding.challenge, "Security key")

    options = json.loads(services.passkeys.authentication_ceremony(alice).options_json)

    [allowed] = options["allowCredentials"]
    assert allowed["transports"] == ["usb", "nfc"]


def test_a_key_registered_with_its_counter_past_zero_cannot_be_used_below_it(
    services, alice, dbsession
) -> None:
    # Keys with one counter for every site register with it already counting; an answer
    # with a lower count is a copy's.
    device = SoftAuthenticator(origin=BASE_URL)
    adding = services.passkeys.registration_ceremony(alice)
    created = device.create(json.loads(adding.options_json), sign_count=41)
    services.passkeys.add(alice, created, adding.challenge, "Shared counter")
    assert [p.sign_count for p in services.passkeys.for_account(alice.id)] == [41]

    ceremony = services.passkeys.authentication_ceremony(alice)
    copy = device.get(json.loads(ceremony.options_json), sign_count=7)

    _refused(services, copy, ceremony.challenge, alice)


def test_the_browser_is_given_as_long_as_the_challenge_lives(services, alice) -> None:
    adding = json.loads(services.passkeys.registration_ceremony(alice).options_json)
    signing_in = json.loads(services.passkeys.authentication_ceremony(alice).options_json)

    assert adding["timeout"] == signing_in["timeout"] == CEREMONY_SECONDS * 1000


@pytest.mark.parametrize("holder", ["another account", "the same account"])
def test_a_credential_id_kept_already_is_refused_without_saying_whose(
    services: Services, alice: Account, monkeypatch: pytest.MonkeyPatch, holder: str
) -> None:
    """docs/security.md 58: the refusal is the one any unusable answer gets, and the
    unit of work goes on (no unique violation left in it)."""
    import tests.passkey_authenticator as authenticator_module

    monkeypatch.setattr(authenticator_module.os, "urandom", lambda n: b"\x07" * n)
    add_passkey(services, alice, "Alice's key")
    bob = services.accounts.create_account("bob@example.com", None, email_verified=True)
    target = bob if holder == "another account" else alice
    ceremony = services.passkeys.registration_ceremony(target)
    answer = SoftAuthenticator(origin=BASE_URL).create(json.loads(ceremony.options_json))

    with pytest.raises(PasskeyRefused) as refused:
        services.passkeys.add(target, answer, ceremony.challenge, "Same id")

    assert refused.value.message == PasskeyRefused.message
    assert [p.name for p in services.passkeys.for_account(target.id)] == (
        ["Alice's key"] if target is alice else []
    )
    assert _refusals(services.dbsession)[-1] == (target.id, "the credential id was not accepted")


def _code(action: Callable[[], object]) -> str:
    with pytest.raises(PasskeyRefused) as refused:
        action()
    return refused.value.code


def test_each_refusal_names_its_reason_by_its_code(
    services: Services, alice: Account, key: SoftAuthenticator
) -> None:
    """The code a program reads beside the message, one for each reason."""
    passkeys = services.passkeys
    named_wrongly, challenge = passkey_answer(services, key, None)
    named_wrongly["response"]["userHandle"] = "c29tZW9uZSBlbHNl"
    another_account = _code(
        lambda: passkeys.verify(named_wrongly, challenge, require_user_verification=False)
    )

    counting = SoftAuthenticator(origin=BASE_URL)
    adding = passkeys.registration_ceremony(alice)
    created = counting.create(json.loads(adding.options_json), sign_count=41)
    passkeys.add(alice, created, adding.challenge, "Shared counter")
    ceremony = passkeys.authentication_ceremony(alice)
    copy = counting.get(json.loads(ceremony.options_json), sign_count=7)
    copied = _code(
        lambda: passkeys.verify(copy, ceremony.challenge, alice, require_user_verification=False)
    )

    first = passkeys.for_account(alice.id)[0]
    nameless = _code(lambda: passkeys.rename(first, " \t "))

    answer, challenge = passkey_answer(services, key, alice)
    passkeys.remove(alice, first)
    unknown = _code(
        lambda: passkeys.verify(answer, challenge, alice, require_user_verification=False)
    )

    assert [another_account, copied, nameless, unknown] == [
        "passkey_of_another_account",
        "passkey_copied",
        "passkey_name_missing",
        "passkey_unknown",
    ]


def test_a_missing_or_answered_ceremony_names_its_reason_by_its_code(
    services: Services, alice: Account, key: SoftAuthenticator
) -> None:
    passkeys = services.passkeys
    answer, challenge = passkey_answer(services, key, alice)
    expired = _code(lambda: passkeys.verify(answer, None, alice, require_user_verification=False))
    passkeys.verify(answer, challenge, alice, require_user_verification=False)
    again, _unused = passkey_answer(services, key, alice)
    answered = _code(
        lambda: passkeys.verify(again, challenge, alice, require_user_verification=False)
    )
    assert [expired, answered] == ["passkey_request_expired", "passkey_request_answered"]
