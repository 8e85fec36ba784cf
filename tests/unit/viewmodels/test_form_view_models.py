"""What every form shares: the error summary in page order, the attributes that tie a
field to its error and put the focus where the reader must look, and which password
is given back after an error (no database)."""

from __future__ import annotations

from typing import Any

from pyramid.testing import DummyRequest
from webob.multidict import MultiDict

from app.services.kernel.errors import SignInFailed
from app.viewmodels.account import RegisterViewModel, SignInViewModel
from app.viewmodels.base import ViewModelBase
from app.viewmodels.two_factor import ReauthenticateViewModel

PASSWORD = "correct horse battery staple"

NO_ATTRIBUTES = {"aria-invalid": None, "aria-describedby": None, "autofocus": None}


def posted(*pairs: tuple[str, Any]) -> DummyRequest:
    return DummyRequest(post=MultiDict(pairs))


class Enrolment(ViewModelBase):
    """A form whose checks run in another order than its fields appear, with an
    optional PIN that, like any password, is never shown again when it failed."""

    FIELDS = (("name", "Your name"), ("email", "Email address"), ("pin", "PIN"))
    SECRET_FIELDS = frozenset({"pin"})

    def __init__(self, request: DummyRequest, pin: str = "") -> None:
        super().__init__(request)
        self.name = ""
        self.email = ""
        self.pin = pin


def test_the_error_summary_follows_the_page_not_the_order_of_the_checks() -> None:
    vm = Enrolment(posted())
    vm.fail("pin", "Choose a PIN.")
    vm.fail("comment", "Shorten the comment.")
    vm.fail("email", "Enter your email address.")
    vm.fail("name", "Enter your name.")

    assert vm.summary() == [
        ("name", "Enter your name."),
        ("email", "Enter your email address."),
        ("pin", "Choose a PIN."),
        ("comment", "Shorten the comment."),
    ]
    assert [vm.label(field) for field, _ in vm.summary()] == [
        "Your name",
        "Email address",
        "PIN",
        "comment",
    ]


def test_a_reauthentication_without_password_or_code_lists_the_password_first() -> None:
    vm = ReauthenticateViewModel.from_request(posted(), "a@example.com", True, True, False)

    assert vm.validate() is False
    assert [field for field, _ in vm.summary()] == ["password", "code"]
    assert vm.attrs("password", None, True)["autofocus"] == "autofocus"
    assert vm.attrs("code")["autofocus"] is None


def test_a_blank_form_puts_the_focus_only_on_the_field_marked_for_it() -> None:
    vm = RegisterViewModel(posted())

    assert vm.attrs("email", None, True) == {
        "aria-invalid": None,
        "aria-describedby": None,
        "autofocus": "autofocus",
    }
    assert vm.attrs("password", "password-help") == {
        "aria-invalid": None,
        "aria-describedby": "password-help",
        "autofocus": None,
    }
    assert vm.attrs("confirm_password") == NO_ATTRIBUTES


def test_each_field_at_fault_points_to_its_error_and_the_first_takes_the_focus() -> None:
    vm = RegisterViewModel.from_request(
        posted(("email", ""), ("password", PASSWORD), ("confirm_password", "something else"))
    )

    assert vm.validate() is False
    assert vm.attrs("email", None, True) == {
        "aria-invalid": "true",
        "aria-describedby": "email-error",
        "autofocus": "autofocus",
    }
    assert vm.attrs("password", "password-help") == {
        "aria-invalid": None,
        "aria-describedby": "password-help",
        "autofocus": None,
    }
    assert vm.attrs("confirm_password", "confirm-help", True) == {
        "aria-invalid": "true",
        "aria-describedby": "confirm_password-error confirm-help",
        "autofocus": None,
    }


def test_when_the_whole_form_is_refused_no_field_takes_the_focus() -> None:
    vm = SignInViewModel.from_request(posted(("email", "a@example.com"), ("password", PASSWORD)))
    assert vm.validate() is True

    vm.refused(SignInFailed())

    assert vm.error == "Email or password is incorrect."
    assert vm.attrs("email", None, True) == NO_ATTRIBUTES
    assert vm.attrs("password") == NO_ATTRIBUTES
    assert vm.kept("password") is None


def test_the_passwords_are_given_back_only_when_another_field_was_at_fault() -> None:
    def register(email: str, confirm: str = PASSWORD) -> RegisterViewModel:
        vm = RegisterViewModel.from_request(
            posted(("email", email), ("password", PASSWORD), ("confirm_password", confirm))
        )
        vm.validate()
        return vm

    bad_address = register("not an address")
    assert (bad_address.kept("password"), bad_address.kept("confirm_password")) == (
        PASSWORD,
        PASSWORD,
    )
    assert bad_address.kept("email") is None

    mismatch = register("not an address", confirm="something else")
    assert (mismatch.kept("password"), mismatch.kept("confirm_password")) == (None, None)

    accepted = register("a@example.com")
    assert accepted.is_valid
    assert (accepted.kept("password"), accepted.kept("confirm_password")) == (None, None)


def test_an_empty_password_is_not_given_back_as_a_value() -> None:
    vm = Enrolment(posted())
    vm.fail("email", "Enter your email address.")
    assert vm.kept("pin") is None

    typed = Enrolment(posted(), pin="4711")
    typed.fail("email", "Enter your email address.")
    assert typed.kept("pin") == "4711"
