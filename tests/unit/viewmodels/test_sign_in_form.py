"""The sign-in form's view model: what it reads from the form and the query, what it
offers after a reset, and which field each problem is shown at."""

from __future__ import annotations

from pyramid.testing import DummyRequest
from webob.multidict import MultiDict

from app.viewmodels.account import MAX_PASSWORD_FIELD, PREFILL_KEY, SignInViewModel
from app.web.pending_codes import PendingCodes
from tests.conftest import SECRET

ALICE = "alice@example.com"
PASSWORD = "correct horse battery staple"


def _posted(**fields: str) -> DummyRequest:
    return DummyRequest(post=MultiDict(fields))


def _shown_after_a_reset(method: str) -> DummyRequest:
    """A request in a browser that has just chosen a new password for ALICE."""
    request = DummyRequest(post=MultiDict() if method == "POST" else None)
    request.pending_codes = PendingCodes(SECRET)
    request.pending_codes.keep(request.session, PREFILL_KEY, ALICE)
    return request


def test_the_form_after_a_reset_offers_the_address_it_was_for() -> None:
    assert SignInViewModel(_shown_after_a_reset("GET")).email == ALICE
    elsewhere = DummyRequest()
    elsewhere.pending_codes = PendingCodes(SECRET)
    assert SignInViewModel(elsewhere).email == ""
    # A posted form says for itself which address it is.
    assert SignInViewModel(_shown_after_a_reset("POST")).email == ""
    assert SignInViewModel.from_request(_shown_after_a_reset("POST")).email == ""


def test_the_posted_fields_are_read() -> None:
    vm = SignInViewModel.from_request(
        _posted(email=ALICE, password=PASSWORD, came_from="/account/sessions", remember_me="yes")
    )

    assert vm.validate() is True
    assert (vm.email, vm.password, vm.came_from, vm.remember_me) == (
        ALICE,
        PASSWORD,
        "/account/sessions",
        True,
    )


def test_remember_me_is_on_only_when_its_box_was_ticked() -> None:
    for sent in ("", "no", "YES", "on"):
        assert SignInViewModel.from_request(_posted(remember_me=sent)).remember_me is False
    assert SignInViewModel.from_request(_posted()).remember_me is False


def test_a_place_to_go_on_another_site_is_replaced_by_the_account_page() -> None:
    vm = SignInViewModel.from_request(_posted(came_from="https://evil.test/"))

    assert vm.came_from == "/account"


def test_each_missing_field_is_shown_at_that_field() -> None:
    vm = SignInViewModel.from_request(_posted(email="  ", password=""))

    assert vm.validate() is False
    assert vm.errors == {
        "email": "Enter your email address.",
        "password": "Enter your password.",
    }


def test_a_password_of_the_fields_limit_is_read_and_one_character_more_is_refused() -> None:
    at_limit = SignInViewModel.from_request(_posted(email=ALICE, password="p" * MAX_PASSWORD_FIELD))
    assert at_limit.validate() is True

    over = SignInViewModel.from_request(
        _posted(email=ALICE, password="p" * (MAX_PASSWORD_FIELD + 1))
    )
    assert over.validate() is False
    assert over.error == "A field of the form is far too long."
