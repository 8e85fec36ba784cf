"""Every refusal has a stable code beside its message (app/services/kernel/errors.py):
what the JSON API and the identity provider will name, the same whatever the language."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import app
from app.services.kernel.email_addresses import clean_email
from app.services.kernel.errors import (
    AdminActionRefused,
    DomainError,
    InvalidEmail,
    PasswordRejected,
    SignInExpired,
    SignInFailed,
    error_codes,
)
from app.services.passwords.policy import PasswordPolicy

SNAKE_CASE = re.compile(r"^[a-z]+(?:_[a-z]+)*$")


def _every_refusal() -> list[type[DomainError]]:
    """Each DomainError class of the app, once every module is imported."""
    for module in pkgutil.walk_packages(app.__path__, "app."):
        if not module.name.startswith("app.scripts"):
            importlib.import_module(module.name)
    found: list[type[DomainError]] = []
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_refusal_has_a_code_of_its_own_in_snake_case() -> None:
    refusals = _every_refusal()
    assert len(refusals) > 15
    own = [cls.code for cls in refusals]
    assert len(own) == len(set(own)), own
    for cls in refusals:
        assert "code" in vars(cls), f"{cls.__name__} inherits its code"
        for code in (cls.code, *cls.other_codes):
            assert SNAKE_CASE.match(code), code


def test_no_code_means_two_things() -> None:
    every = [code for cls in _every_refusal() for code in (cls.code, *cls.other_codes)]
    assert len(every) == len(set(every))
    assert set(error_codes()) == set(every)


def test_a_refusal_cannot_be_given_a_code_it_does_not_list() -> None:
    with pytest.raises(ValueError, match="AdminActionRefused has no code 'made_up'"):
        AdminActionRefused("No.", code="made_up")
    refused = AdminActionRefused("No.", code="last_administrator")
    assert (refused.code, AdminActionRefused.code) == ("last_administrator", "admin_action_refused")


def test_the_code_does_not_change_the_message() -> None:
    refused = SignInExpired()
    assert isinstance(refused, SignInFailed)
    assert (refused.code, str(refused)) == (
        "sign_in_expired",
        "Your sign-in has expired. Sign in again.",
    )
    assert SignInFailed().code == "sign_in_failed"


@pytest.mark.parametrize(
    ("password", "email", "code"),
    [
        ("short", None, "password_too_short"),
        ("x" * 600, None, "password_too_long"),
        ("kq7#Vz!m2Lp9\x00", None, "password_bad_character"),
        ("alice.long@example.com", "alice.long@example.com", "password_is_the_email"),
        ("aaaaaaaaaaaaaaaa", None, "password_too_weak"),
    ],
)
def test_each_password_refusal_says_which_rule(password: str, email: str | None, code: str) -> None:
    with pytest.raises(PasswordRejected) as refused:
        PasswordPolicy(min_strength=3).check(password, email)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "email_missing"),
        ("a" * 300 + "@example.com", "email_too_long"),
        ("josé@example.com", "email_local_part_not_ascii"),
        ("not an address", "invalid_email"),
    ],
)
def test_each_address_refusal_says_which_rule(text: str, code: str) -> None:
    with pytest.raises(InvalidEmail) as refused:
        clean_email(text)
    assert refused.value.code == code


def test_each_code_is_listed_with_the_class_that_carries_it() -> None:
    codes = error_codes()
    assert codes["refused"] == "DomainError"
    assert codes["sign_in_expired"] == "SignInExpired"
    assert codes["last_administrator"] == "AdminActionRefused"
    assert codes["passkey_just_used"] == "PasskeyRefused"
