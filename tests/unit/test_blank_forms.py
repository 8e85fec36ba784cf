"""A form sent without its one required value says so beside that field and goes no
further; a service's refusal is shown in its own words (no database)."""

from __future__ import annotations

from pyramid.testing import DummyRequest
from webob.multidict import MultiDict

from app.viewmodels.admin import NewAccountViewModel
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
