"""The account forms' own checks: each problem is shown beside the field it concerns,
with the page's message, and a well-typed form goes on with the address cleaned (no
database)."""

from __future__ import annotations

from typing import Any

from pyramid.testing import DummyRequest
from webob.multidict import MultiDict

from app.viewmodels.account import ChangeEmailViewModel, VerifyEmailViewModel

PASSWORD = "correct horse battery staple"
OLD = "old@example.com"


def posted(*pairs: tuple[str, Any]) -> DummyRequest:
    return DummyRequest(post=MultiDict(pairs))


def change_email(*pairs: tuple[str, Any]) -> ChangeEmailViewModel:
    vm = ChangeEmailViewModel.from_request(posted(*pairs), OLD)
    vm.validate()
    return vm


def test_a_blank_address_change_asks_for_the_new_address_and_the_password_beside_each() -> None:
    vm = change_email(("new_email", "   "))

    assert vm.is_valid is False
    assert vm.summary() == [
        ("new_email", "Enter the new email address."),
        ("current_password", "Enter your current password."),
    ]
    assert vm.attrs("new_email")["aria-describedby"] == "new_email-error"
    assert vm.attrs("current_password")["aria-describedby"] == "current_password-error"


def test_a_malformed_new_address_is_shown_beside_it_and_the_password_is_given_back() -> None:
    vm = change_email(("new_email", "not an address"), ("current_password", PASSWORD))

    assert vm.errors == {"new_email": "Enter one email address like name@example.com."}
    assert vm.attrs("new_email")["autofocus"] == "autofocus"
    assert vm.kept("current_password") == PASSWORD
    assert vm.new_email == "not an address"


def test_a_new_address_without_the_password_is_cleaned_and_only_the_password_is_asked() -> None:
    vm = change_email(("new_email", "  New@Example.com "))

    assert vm.errors == {"current_password": "Enter your current password."}
    assert vm.new_email == "new@example.com"
    assert vm.attrs("new_email") == {
        "aria-invalid": None,
        "aria-describedby": None,
        "autofocus": None,
    }


def test_a_well_typed_address_change_goes_on_with_the_cleaned_address() -> None:
    vm = change_email(("new_email", "New@Example.com"), ("current_password", PASSWORD))

    assert vm.is_valid is True
    assert vm.to_dict()["new_email"] == "new@example.com"


def test_confirming_an_address_without_the_password_asks_for_it_beside_the_field() -> None:
    vm = VerifyEmailViewModel.from_request(posted(("password", "")), "code", "new@example.com")

    assert vm.validate() is False
    assert vm.errors == {"password": "Enter the password you chose when you registered."}
    assert vm.attrs("password")["autofocus"] == "autofocus"
    assert vm.summary() == [("password", "Enter the password you chose when you registered.")]
