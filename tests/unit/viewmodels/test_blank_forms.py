"""A form sent without its one required value says so beside that field and goes no
further; a service's refusal is shown in its own words (no database)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

from pyramid.i18n import Localizer
from pyramid.testing import DummyRequest
from webob.multidict import MultiDict

from app.i18n import Formats
from app.services.kernel import audit as events
from app.services.mfa.passkeys import MAX_NAME_LENGTH
from app.viewmodels.account import (
    ChangePasswordViewModel,
    ForgotPasswordViewModel,
    RegisterViewModel,
)
from app.viewmodels.admin import NewAccountViewModel
from app.viewmodels.events import event_row
from app.viewmodels.passkeys import MAX_ANSWER_BYTES, PasskeyAnswerViewModel
from app.viewmodels.two_factor import SecondFactorViewModel, TotpSetupViewModel


def posted(**fields: str) -> DummyRequest:
    return DummyRequest(post=MultiDict(csrf_token="token", **fields))


def test_an_invitation_without_an_address_asks_for_it_beside_the_field() -> None:
    vm = NewAccountViewModel.from_request(posted(email="   "))

    assert vm.validate() is False
    assert vm.errors == {"email": "Enter the address to send the invitation to."}
    assert vm.error is None


def test_a_second_step_without_a_code_asks_for_it_beside_the_field() -> None:
    vm = SecondFactorViewModel.from_request(posted(code="  "), use_code=True, use_passkey=False)

    assert vm.validate() is False
    assert vm.errors == {"code": "Enter the code from your authenticator app, or a recovery code."}


def test_turning_the_app_on_without_a_code_asks_for_it_beside_the_field() -> None:
    vm = TotpSetupViewModel.from_request(posted(code=""), secret="S" * 32, qr_code_svg="<svg/>")

    assert vm.validate() is False
    assert vm.errors == {"code": "Enter the 6-digit code the app shows, to check it is set up."}


def test_a_refusal_without_a_message_of_its_own_is_shown_in_its_words() -> None:
    vm = NewAccountViewModel(posted())

    vm.refused(RuntimeError("The invitation could not be sent."))

    assert vm.error == "The invitation could not be sent."
    assert vm.errors == {}


def test_a_password_change_without_the_current_password_asks_for_it_beside_the_field() -> None:
    vm = ChangePasswordViewModel.from_request(
        posted(current_password="", password="a new long password", confirm_password="x"),
        email="alice@example.com",
    )

    assert vm.validate() is False
    assert vm.errors["current_password"] == "Enter your current password."


def test_a_passkey_sign_in_answer_needs_no_name() -> None:
    request = DummyRequest(
        body=b'{"credential": {"id": "abc"}, "next": "/account/sessions"}',
        content_type="application/json",
    )

    vm = PasskeyAnswerViewModel.from_request(request)

    assert vm.validate() is True
    assert (vm.credential, vm.name, vm.next) == ({"id": "abc"}, "", "/account/sessions")


def test_events_that_went_wrong_and_events_that_went_well_are_told_apart() -> None:
    def row(kind: str):
        event = SimpleNamespace(
            kind=kind,
            details={},
            ip="192.0.2.1",
            user_agent=None,
            created_at=datetime(2026, 1, 15, 9, 0, tzinfo=UTC),
            actor_id=None,
        )
        return event_row(event, Formats("en", Localizer("en", None)))

    assert row(events.SIGN_IN).outcome == "ok"
    assert row(events.PASSWORD_CHANGED).outcome == "ok"
    assert row(events.SIGN_IN_BLOCKED).outcome == "failed"
    assert row(events.SIGN_IN).actor_email is None


def _passkey_answer(body: bytes) -> PasskeyAnswerViewModel:
    return PasskeyAnswerViewModel.from_request(
        DummyRequest(body=body, content_type="application/json")
    )


def _answer_of_size(size: int) -> bytes:
    start, end = b'{"credential": {"id": "abc", "pad": "', b'"}}'
    return start + b"x" * (size - len(start) - len(end)) + end


def test_a_passkey_answer_of_exactly_the_limit_is_read_and_one_byte_more_is_refused() -> None:
    at_limit = _passkey_answer(_answer_of_size(MAX_ANSWER_BYTES))
    over = _passkey_answer(_answer_of_size(MAX_ANSWER_BYTES + 1))

    assert at_limit.validate() is True
    assert over.validate() is False
    assert over.error == "The passkey's answer is far too long."
    assert over.credential == {}


def test_only_the_start_of_a_huge_passkey_name_is_looked_at() -> None:
    # A name is cut to four times its longest before it is cleaned, so cleaning a huge
    # one costs little; what lies past the cut never reaches the name, even where the
    # cleaning would have shortened what comes before it.
    padded = "Key" + " " * (4 * MAX_NAME_LENGTH - 3) + "Tail"
    vm = _passkey_answer(json.dumps({"credential": {"id": "abc"}, "name": padded}).encode())

    assert vm.name == "Key"


def test_a_registration_without_an_address_asks_for_it_beside_the_field() -> None:
    vm = RegisterViewModel.from_request(
        posted(email="  ", password="a long enough password", confirm_password="x")
    )

    assert vm.validate() is False
    assert vm.errors["email"] == "Enter your email address."


def test_a_forgotten_password_form_without_an_address_asks_for_it_beside_the_field() -> None:
    vm = ForgotPasswordViewModel.from_request(posted(email=" "))

    assert vm.validate() is False
    assert vm.errors == {"email": "Enter the email address of your account."}
