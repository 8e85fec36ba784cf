"""The view models' checks of a form's shape, each refusal with the message the page
shows, and what a blank form starts with (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyramid.i18n import Localizer
from pyramid.testing import DummyRequest
from webob.multidict import MultiDict

from app.i18n import Formats
from app.services.kernel import audit as events
from app.services.sessions.user_agents import describe_user_agent
from app.translation import english
from app.viewmodels.account import (
    MAX_PASSWORD_FIELD,
    ChangeEmailViewModel,
    ChangePasswordViewModel,
    ForgotPasswordViewModel,
    RegisterViewModel,
    ResetPasswordViewModel,
    SignInViewModel,
    VerifyEmailViewModel,
)
from app.viewmodels.admin import NewAccountViewModel, account_row
from app.viewmodels.base import MAX_FIELD_LENGTH, ViewModelBase, safe_redirect_path
from app.viewmodels.events import event_row
from app.viewmodels.pages import page_number
from app.viewmodels.passkeys import PasskeyAnswerViewModel, PasskeyNameViewModel
from app.viewmodels.sessions import SessionsViewModel
from app.viewmodels.two_factor import (
    ReauthenticateViewModel,
    SecondFactorViewModel,
    TotpSetupViewModel,
)

# Event rows in English, with the messages' own text (no catalogue).
ENGLISH = Formats("en", Localizer("en", None))


PASSWORD = "correct horse battery staple"
REPEATED = "The form was sent with a field repeated. Please try again."
TOO_LONG = "A field of the form is far too long."


def problem(vm: ViewModelBase) -> str | None:
    """What the page says is wrong: the form's error, or the (first) field's."""
    return vm.error or next((message for _, message in vm.summary()), None)


def shown(vm: ViewModelBase) -> dict[str, Any]:
    """What the template is given, but the form object itself."""
    return {key: value for key, value in vm.to_dict().items() if key != "form"}


def posted(*pairs: tuple[str, Any], query: dict[str, str] | None = None) -> DummyRequest:
    return DummyRequest(post=MultiDict(pairs), params=query or {})


class Upload:
    """What WebOb gives for a file field: not text."""

    filename = "passwords.txt"


def test_a_field_is_read_as_text_and_an_absent_one_is_empty() -> None:
    vm = ViewModelBase(posted(("email", "a@example.com")))

    assert vm.form_value("email") == "a@example.com"
    assert vm.form_value("password") == ""
    assert problem(vm) is None
    assert shown(vm) == {"error": None}


def test_a_field_of_exactly_the_limit_is_read_and_one_character_more_is_refused() -> None:
    at_limit = ViewModelBase(posted(("note", "x" * MAX_FIELD_LENGTH)))
    assert at_limit.form_value("note") == "x" * MAX_FIELD_LENGTH
    assert problem(at_limit) is None

    over = ViewModelBase(posted(("note", "x" * (MAX_FIELD_LENGTH + 1))))
    assert over.form_value("note") == ""
    assert problem(over) == "A field of the form is far too long."

    short_limit = ViewModelBase(posted(("password", "x" * 11)))
    assert short_limit.form_value("password", 10) == ""
    assert problem(short_limit) == "A field of the form is far too long."


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ((("email", "a@example.com"), ("email", "b@example.com")), REPEATED),
        ((("email", Upload()),), "The form was sent in an unexpected format."),
    ],
    ids=["repeated", "file upload"],
)
def test_a_repeated_or_uploaded_field_is_refused_not_guessed_at(pairs, message: str) -> None:
    vm = ViewModelBase(posted(*pairs))

    assert vm.form_value("email") == ""
    assert problem(vm) == message
    assert shown(vm) == {"error": message}


def test_the_first_problem_of_a_form_is_the_one_reported() -> None:
    vm = ViewModelBase(
        posted(("a", "1"), ("a", "2"), ("b", Upload()), ("c", "x" * (MAX_FIELD_LENGTH + 1)))
    )
    vm.form_value("a")
    vm.form_value("b")
    vm.form_value("c")

    assert problem(vm) == REPEATED


def test_an_email_field_is_cleaned_or_refused_with_the_reason() -> None:
    vm = ViewModelBase(posted())

    assert vm.clean_email_field("  Alice@Example.COM ") == "alice@example.com"
    assert problem(vm) is None
    assert vm.clean_email_field("no at sign") is None
    assert problem(vm) == "Enter one email address like name@example.com."
    blank = ViewModelBase(posted())
    assert blank.clean_email_field("  ") is None
    assert problem(blank) == "Enter your email address."


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/account/sessions?page=2", "/account/sessions?page=2"),
        ("/" + "a" * 1999, "/" + "a" * 1999),
        ("/" + "a" * 2000, "/account"),
        (None, "/account"),
        ("", "/account"),
        ("account", "/account"),
        ("//evil.test", "/account"),
        ("///evil.test", "/account"),
        ("/X/Y", "/X/Y"),
        ("/a:b//c", "/a:b//c"),
        ("/\\evil.test", "/account"),
        ("/path\twith tab", "/account"),
        ("/caf\u00e9", "/account"),
        ("/\x7f", "/account"),
        ("https://evil.test/", "/account"),
    ],
)
def test_only_a_path_of_this_site_is_a_place_to_go_after_sign_in(candidate, expected) -> None:
    assert safe_redirect_path(candidate) == expected


@given(st.text(st.characters(codec="ascii"), max_size=40))
def test_no_accepted_place_to_go_names_a_scheme_or_a_host(candidate: str) -> None:
    for tried in (candidate, "/" + candidate, "//" + candidate):
        parts = urlsplit(safe_redirect_path(tried))
        assert (parts.scheme, parts.netloc) == ("", "")


def test_a_blank_form_shows_nothing_filled_in() -> None:
    request = posted(query={"came_from": "/admin/accounts"})

    assert shown(RegisterViewModel(request)) == {"error": None, "email": "", "display_name": ""}
    assert shown(SignInViewModel(request)) == {
        "error": None,
        "email": "",
        "came_from": "/admin/accounts",
        "remember_me": False,
    }
    assert shown(ForgotPasswordViewModel(request)) == {"error": None, "email": ""}
    assert shown(NewAccountViewModel(request)) == {
        "error": None,
        "email": "",
        "is_admin": False,
    }
    assert shown(ChangePasswordViewModel(request, "a@example.com")) == {
        "error": None,
        "email": "a@example.com",
    }
    assert shown(ResetPasswordViewModel(request, "code", "a@example.com", False)) == {
        "error": None,
        "email": "a@example.com",
        "is_invitation": False,
        "title": "Choose a new password",
    }
    invitation = shown(ResetPasswordViewModel(request, "code", "a@example.com", True))
    assert invitation["title"] == "Choose your password"


@pytest.mark.parametrize(
    ("value", "is_admin"),
    [("on", True), ("true", True), ("1", True), ("yes", True), ("", False), ("off", False)],
)
def test_the_administrator_checkbox_is_read_from_its_usual_values(value, is_admin) -> None:
    vm = NewAccountViewModel.from_request(posted(("email", "B@example.com"), ("is_admin", value)))

    assert vm.validate() is True
    assert (vm.email, vm.is_admin) == ("b@example.com", is_admin)


def test_a_new_account_form_with_a_bad_or_repeated_field_is_refused() -> None:
    bad = NewAccountViewModel.from_request(posted(("email", "nobody")))
    assert bad.validate() is False
    assert problem(bad) == "Enter one email address like name@example.com."

    repeated = NewAccountViewModel.from_request(
        posted(("email", "b@example.com"), ("is_admin", "on"), ("is_admin", "on"))
    )
    assert repeated.validate() is False
    assert problem(repeated) == REPEATED


NEW_PASSWORD_FORMS = {
    "register": lambda r: RegisterViewModel.from_request(r),
    "reset": lambda r: ResetPasswordViewModel.from_request(r, "code", "a@example.com", False),
    "change": lambda r: ChangePasswordViewModel.from_request(r, "a@example.com"),
}


@pytest.mark.parametrize("form", NEW_PASSWORD_FORMS.keys())
@pytest.mark.parametrize(
    ("password", "confirm", "field", "message"),
    [
        ("", "", "password", "Choose a password."),
        (PASSWORD, PASSWORD + "!", "confirm_password", "The two passwords do not match."),
        (PASSWORD, "", "confirm_password", "Type the password again, to be sure of it."),
    ],
)
def test_a_new_password_must_be_given_the_same_twice(
    form, password, confirm, field, message
) -> None:
    request = posted(
        ("email", "a@example.com"),
        ("current_password", "the old one"),
        ("password", password),
        ("confirm_password", confirm),
    )
    vm = NEW_PASSWORD_FORMS[form](request)

    assert vm.validate() is False
    # Tied to the field it is about, so the page shows it there.
    assert vm.errors == {field: message}


@pytest.mark.parametrize("form", NEW_PASSWORD_FORMS.keys())
def test_a_new_password_given_the_same_twice_passes_the_form_check(form) -> None:
    request = posted(
        ("email", " A@Example.com "),
        ("current_password", "the old one"),
        ("password", PASSWORD),
        ("confirm_password", PASSWORD),
    )
    vm = NEW_PASSWORD_FORMS[form](request)

    assert vm.validate() is True
    assert problem(vm) is None
    assert vm.password == PASSWORD
    assert shown(vm)["email"] == "a@example.com"


@pytest.mark.parametrize("form", NEW_PASSWORD_FORMS.keys())
def test_a_password_field_longer_than_any_password_is_refused(form) -> None:
    long = "x" * (MAX_PASSWORD_FIELD + 1)
    request = posted(
        ("email", "a@example.com"),
        ("current_password", "the old one"),
        ("password", long),
        ("confirm_password", long),
    )
    vm = NEW_PASSWORD_FORMS[form](request)

    assert vm.validate() is False
    assert problem(vm) == "A field of the form is far too long."


@pytest.mark.parametrize("form", ["register", "forgot", "sign in", "change"])
def test_a_form_with_a_repeated_field_is_refused_before_anything_else(form) -> None:
    request = posted(
        ("email", "a@example.com"),
        ("email", "b@example.com"),
        ("current_password", "old"),
        ("current_password", "old"),
        ("password", PASSWORD),
        ("password", PASSWORD),
        ("confirm_password", PASSWORD),
        ("confirm_password", PASSWORD),
    )
    vm = {
        "register": RegisterViewModel.from_request,
        "forgot": ForgotPasswordViewModel.from_request,
        "sign in": SignInViewModel.from_request,
        "change": lambda r: ChangePasswordViewModel.from_request(r, "a@example.com"),
    }[form](request)

    assert vm.validate() is False
    assert problem(vm) == REPEATED


def test_the_register_and_forgot_forms_refuse_an_address_that_is_not_one() -> None:
    for make in (RegisterViewModel.from_request, ForgotPasswordViewModel.from_request):
        vm = make(posted(("email", "a@b"), ("password", PASSWORD), ("confirm_password", PASSWORD)))
        assert vm.validate() is False
        assert problem(vm) == "Enter one email address like name@example.com."
        assert shown(vm)["email"] == "a@b"

    forgot = ForgotPasswordViewModel.from_request(posted(("email", " A@Example.com")))
    assert forgot.validate() is True
    assert forgot.email == "a@example.com"


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("a@example.com", PASSWORD, None),
        ("   ", PASSWORD, "Enter your email address."),
        ("a@example.com", "", "Enter your password."),
    ],
)
def test_sign_in_needs_an_address_and_a_password(email, password, message) -> None:
    vm = SignInViewModel.from_request(
        posted(("email", email), ("password", password), ("came_from", "//evil.test"))
    )

    assert vm.validate() is (message is None)
    assert problem(vm) == message
    assert shown(vm)["email"] == email.strip()
    assert shown(vm)["came_from"] == "/account"


def test_changing_the_password_needs_the_current_one() -> None:
    vm = ChangePasswordViewModel.from_request(
        posted(("password", PASSWORD), ("confirm_password", PASSWORD)), "a@example.com"
    )

    assert vm.validate() is False
    assert problem(vm) == "Enter your current password."


def _event(kind: str, details: Any = None, ip: str | None = "192.0.2.1") -> Any:
    return SimpleNamespace(
        kind=kind,
        details=details,
        ip=ip,
        user_agent="curl/8.5.0",
        created_at=datetime(2026, 1, 15, 9, 0, tzinfo=UTC),
        actor_id=None,
    )


@pytest.mark.parametrize(
    ("details", "description"),
    [
        (None, "Signed in"),
        ({}, "Signed in"),
        ({"repeats": 0}, "Signed in"),
        ({"repeats": 1}, "Signed in (and 1 more time soon after)"),
        ({"repeats": 2}, "Signed in (and 2 more times soon after)"),
        ({"repeats": "2"}, "Signed in"),
    ],
)
def test_a_repeated_event_says_how_many_more_times_it_happened(details, description) -> None:
    assert event_row(_event(events.SIGN_IN, details), ENGLISH).description == description


def test_an_event_row_names_an_unknown_kind_and_a_missing_address_readably() -> None:
    row = event_row(_event("password_expired_by_policy", ip=None), ENGLISH)

    assert row.description == "Password expired by policy"
    assert (row.ip, row.device) == ("unknown", "curl 8")


PASSWORD_FIELDS = {
    "register": (RegisterViewModel.from_request, ["password", "confirm_password"]),
    "reset": (NEW_PASSWORD_FORMS["reset"], ["password", "confirm_password"]),
    "change": (NEW_PASSWORD_FORMS["change"], ["current_password", "password", "confirm_password"]),
}


@pytest.mark.parametrize(
    ("form", "field"),
    [(form, field) for form, (_, fields) in PASSWORD_FIELDS.items() for field in fields],
)
def test_each_password_field_is_cut_off_at_the_password_field_limit(form, field) -> None:
    values = {
        "email": "a@example.com",
        "current_password": "the old one",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
    }
    values[field] = "x" * (MAX_PASSWORD_FIELD + 1)
    make, _ = PASSWORD_FIELDS[form]

    vm = make(posted(*values.items()))

    assert vm.validate() is False
    assert problem(vm) == "A field of the form is far too long."


@pytest.mark.parametrize(
    ("query", "page"),
    [({}, 1), ({"page": "12"}, 12), ({"page": "999999"}, 999999), ({"page": "1000000"}, 1)]
    + [({"page": bad}, 1) for bad in ("", "abc", "-2", "1.5", "\uff12")],
)
def test_a_page_number_is_one_to_six_digits_or_else_the_first_page(query, page) -> None:
    assert page_number(DummyRequest(params=query)) == page


def _device(id: int, minutes_ago: int, ip: str | None = "192.0.2.1", kind: str = "browser") -> Any:
    seen = datetime(2026, 1, 15, 9, 0, tzinfo=UTC) - timedelta(minutes=minutes_ago)
    return SimpleNamespace(
        id=id,
        user_agent=None,
        ip=ip,
        created_at=seen,
        last_seen_at=seen,
        known_device=None,
        kind=kind,
    )


def test_the_device_list_shows_this_device_first_then_the_most_recently_seen() -> None:
    sessions = [_device(1, 30), _device(2, 5, ip=None), _device(3, 60), _device(4, 1)]

    vm = SessionsViewModel(DummyRequest(), sessions, current_id=3)

    assert [(d.id, d.is_current) for d in vm.devices] == [
        (3, True),
        (4, False),
        (2, False),
        (1, False),
    ]
    assert vm.devices[2].ip == "unknown"
    assert shown(vm) == {"error": None, "devices": vm.devices, "others": 3}


@pytest.mark.parametrize(
    ("first_seen_before", "new_browser"),
    [
        (None, False),
        (timedelta(0), True),
        (timedelta(seconds=5), True),
        (timedelta(seconds=6), False),
    ],
    ids=["no device cookie", "same moment", "at the slack", "earlier"],
)
def test_a_session_is_a_new_browsers_when_it_began_within_seconds_of_its_first_sign_in(
    first_seen_before, new_browser
) -> None:
    session = _device(1, 0)
    if first_seen_before is not None:
        session.known_device = SimpleNamespace(first_seen_at=session.created_at - first_seen_before)

    [device] = SessionsViewModel(DummyRequest(), [session], current_id=1).devices

    assert device.new_browser is new_browser
    assert device.is_app is False


def test_an_apps_session_is_an_app_and_never_a_browser() -> None:
    session = _device(1, 0, kind="app")
    session.known_device = SimpleNamespace(first_seen_at=session.created_at)

    [device] = SessionsViewModel(DummyRequest(), [session], current_id=None).devices

    assert (device.is_app, device.new_browser, device.browser_known_since) == (True, False, None)


@pytest.mark.parametrize(
    ("user_agent", "description"),
    [
        (None, "Unknown browser"),
        ("", "Unknown browser"),
        ("Mozilla/5.0 (X11; Linux x86_64)", "A browser on Linux"),
        ("curl/8.5.0", "curl 8"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge 126 on Windows",
        ),
    ],
)
def test_a_device_is_described_from_what_its_user_agent_says(user_agent, description) -> None:
    assert english(describe_user_agent(user_agent)) == description


CONFIRMED = datetime(2026, 1, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("disabled", "password_hash", "confirmed", "deleting", "label"),
    [
        (False, "$argon2id$x", CONFIRMED, None, "Active"),
        (False, "$argon2id$x", None, None, "Email not confirmed"),
        (False, None, None, None, "Invited, waiting"),
        (True, None, CONFIRMED, None, "Disabled"),
        (True, "$argon2id$x", CONFIRMED, CONFIRMED, "Disabled"),
        (False, "$argon2id$x", CONFIRMED, CONFIRMED, "Being deleted"),
    ],
)
def test_an_account_row_says_the_accounts_state_in_words(
    disabled, password_hash, confirmed, deleting, label
) -> None:
    account = SimpleNamespace(
        id=1,
        email="a@example.com",
        is_disabled=disabled,
        deletion_requested_at=deleting,
        display_name=None,
        password_hash=password_hash,
        email_verified_at=confirmed,
        is_admin=True,
        created_at=CONFIRMED,
        last_login_at=CONFIRMED,
    )

    row = account_row(account)  # type: ignore[arg-type]

    assert row.status_label == label
    assert (row.id, row.email, row.is_admin, row.created_at, row.last_login_at) == (
        1,
        "a@example.com",
        True,
        CONFIRMED,
        CONFIRMED,
    )


def test_the_reauthentication_form_keeps_who_and_whether_a_code_is_needed() -> None:
    request = posted(
        ("password", PASSWORD), ("code", " 123456 "), ("came_from", "/account/two_factor")
    )

    vm = ReauthenticateViewModel.from_request(request, "a@example.com", True, True, False)

    assert vm.validate() is True
    assert (vm.password, vm.code) == (PASSWORD, " 123456 ")
    assert shown(vm) == {
        "error": None,
        "email": "a@example.com",
        "needs_code": True,
        "use_code": True,
        "use_passkey": False,
        "came_from": "/account/two_factor",
        "upstream_links": [],
        "upstream_labels": {},
    }
    blank = ReauthenticateViewModel(posted(), "a@example.com", False, False, False)
    assert (blank.password, blank.code) == ("", "")
    assert shown(blank) == {
        "error": None,
        "email": "a@example.com",
        "needs_code": False,
        "use_code": False,
        "use_passkey": False,
        "came_from": "/account",
        "upstream_links": [],
        "upstream_labels": {},
    }


@pytest.mark.parametrize(
    ("pairs", "needs_code", "message"),
    [
        ((("code", "123456"),), True, "Enter your password."),
        (
            (("password", PASSWORD), ("code", "  ")),
            True,
            "Enter the code from your authenticator app, or a recovery code.",
        ),
        ((("password", "x" * (MAX_PASSWORD_FIELD + 1)),), False, TOO_LONG),
        ((("password", PASSWORD), ("code", "1" * 65)), True, TOO_LONG),
    ],
)
def test_the_reauthentication_form_needs_a_password_and_the_code_when_asked(
    pairs, needs_code, message
) -> None:
    vm = ReauthenticateViewModel.from_request(
        posted(*pairs), "a@example.com", needs_code, needs_code, False
    )

    assert vm.validate() is False
    assert problem(vm) == message


def test_without_a_second_factor_the_reauthentication_form_needs_no_code() -> None:
    vm = ReauthenticateViewModel.from_request(
        posted(("password", PASSWORD)), "a@example.com", False, False, False
    )

    assert vm.validate() is True


def test_changing_the_address_needs_the_current_password_and_one_address() -> None:
    def form(*pairs: tuple[str, Any]) -> ChangeEmailViewModel:
        return ChangeEmailViewModel.from_request(posted(*pairs), "old@example.com")

    missing = form(("new_email", "new@example.com"))
    assert missing.validate() is False
    assert problem(missing) == "Enter your current password."

    bad = form(("current_password", PASSWORD), ("new_email", "not an address"))
    assert bad.validate() is False
    assert problem(bad) == "Enter one email address like name@example.com."

    repeated = form(
        ("current_password", PASSWORD), ("new_email", "a@example.com"), ("new_email", "b@x.org")
    )
    assert repeated.validate() is False
    assert problem(repeated) == REPEATED

    too_long = form(
        ("current_password", "x" * (MAX_PASSWORD_FIELD + 1)), ("new_email", "new@example.com")
    )
    assert too_long.validate() is False
    assert problem(too_long) == TOO_LONG

    good = form(("current_password", PASSWORD), ("new_email", " New@Example.com "))
    assert good.validate() is True
    assert shown(good) == {
        "error": None,
        "email": "old@example.com",
        "new_email": "new@example.com",
    }


def test_a_blank_change_email_form_names_the_current_address_only() -> None:
    assert shown(ChangeEmailViewModel(posted(), "old@example.com")) == {
        "error": None,
        "email": "old@example.com",
        "new_email": "",
    }


@pytest.mark.parametrize(
    ("typed", "name", "error"),
    [
        ("  My   phone\x00 ", "My phone", None),
        ("k" * 400, "k" * 100, None),
        ("k" * 401, "", TOO_LONG),
        (" \t ", "", "Give the passkey a name."),
    ],
    ids=["cleaned", "at the field limit", "over it", "blank"],
)
def test_a_passkey_name_is_cleaned_cut_and_required(typed, name, error) -> None:
    vm = PasskeyNameViewModel.from_request(posted(("name", typed)))

    assert vm.name == name
    assert vm.validate() is (error is None)
    assert problem(vm) == error


def test_a_passkey_name_form_with_a_repeated_field_is_refused() -> None:
    vm = PasskeyNameViewModel.from_request(posted(("name", "a"), ("name", "b")))

    assert vm.validate() is False
    assert problem(vm) == REPEATED


def test_the_reauthentication_form_says_whether_a_passkey_may_answer() -> None:
    vm = ReauthenticateViewModel.from_request(posted(), "a@example.com", True, False, True)

    assert (shown(vm)["use_code"], shown(vm)["use_passkey"]) == (False, True)


def test_the_confirmation_form_names_the_address_and_needs_the_registration_password() -> None:
    assert shown(VerifyEmailViewModel(posted(), "code", "new@example.com")) == {
        "error": None,
        "email": "new@example.com",
    }
    blank = VerifyEmailViewModel.from_request(posted(), "code", "new@example.com")
    assert blank.validate() is False
    assert problem(blank) == "Enter the password you chose when you registered."
    assert shown(blank)["email"] == "new@example.com"
    long = VerifyEmailViewModel.from_request(
        posted(("password", "x" * (MAX_PASSWORD_FIELD + 1))), "code", "new@example.com"
    )
    assert long.validate() is False
    assert problem(long) == TOO_LONG


def test_the_second_step_form_says_which_factors_may_answer_and_needs_a_code() -> None:
    default = SecondFactorViewModel.from_request(posted(("code", " 123456 ")), True, False)
    assert default.validate() is True
    assert shown(default) == {"error": None, "use_code": True, "use_passkey": False}

    passkey_only = SecondFactorViewModel.from_request(posted(), False, True)
    assert shown(passkey_only)["use_code"] is False
    assert shown(passkey_only)["use_passkey"] is True

    for pairs, message in [
        ((("code", "  "),), "Enter the code from your authenticator app, or a recovery code."),
        ((("code", "1" * 65),), TOO_LONG),
        ((("code", "1"), ("code", "2")), REPEATED),
    ]:
        vm = SecondFactorViewModel.from_request(posted(*pairs), True, False)
        assert vm.validate() is False
        assert problem(vm) == message


def test_setting_up_the_app_needs_the_code_it_shows() -> None:
    for pairs, message in [
        ((("code", " "),), "Enter the 6-digit code the app shows, to check it is set up."),
        ((("code", "1" * 65),), TOO_LONG),
        ((("code", "1"), ("code", "2")), REPEATED),
    ]:
        vm = TotpSetupViewModel.from_request(posted(*pairs), "ABCDEFGHIJ", "<svg/>")
        assert vm.validate() is False
        assert problem(vm) == message

    ok = TotpSetupViewModel.from_request(
        posted(("code", "123456")), "ABCDEFGHIJ", "<svg/>", "otpauth://totp/x?secret=ABCDEFGHIJ"
    )
    assert ok.validate() is True
    assert shown(ok) == {
        "error": None,
        "secret": "ABCD EFGH IJ",
        "qr_code_svg": "<svg/>",
        "otpauth_uri": "otpauth://totp/x?secret=ABCDEFGHIJ",
    }


def test_a_form_for_a_code_starts_empty_and_asks_for_the_code() -> None:
    second_step = SecondFactorViewModel(posted(), True, False)
    setup = TotpSetupViewModel(posted(), "ABCDEFGHIJ", "<svg/>")

    assert (second_step.code, setup.code) == ("", "")
    assert second_step.validate() is False
    assert problem(second_step) == "Enter the code from your authenticator app, or a recovery code."
    assert setup.validate() is False
    assert problem(setup) == "Enter the 6-digit code the app shows, to check it is set up."


def _answer(body: bytes, content_type: str = "application/json") -> PasskeyAnswerViewModel:
    return PasskeyAnswerViewModel.from_request(DummyRequest(content_type=content_type, body=body))


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"credential": {}}', "text/plain", "Send the passkey's answer as JSON."),
        (b"{not json", "application/json", "The passkey's answer could not be read as JSON."),
        (b"[1, 2]", "application/json", "The passkey's answer was not in the expected form."),
        (
            b'{"credential": "abc", "name": "Laptop"}',
            "application/json",
            "The passkey's answer was not in the expected form.",
        ),
    ],
    ids=["not JSON by its type", "not JSON", "a list", "credential not an object"],
)
def test_a_passkey_answer_that_cannot_be_read_is_refused_and_carries_nothing(
    body, content_type, message
) -> None:
    vm = _answer(body, content_type)

    assert vm.validate() is False
    assert vm.error == message
    assert (vm.credential, vm.name, vm.next, vm.remember_me) == ({}, "", "/account", False)


def test_a_passkey_answer_gives_its_credential_a_clean_name_and_a_safe_next_page() -> None:
    vm = _answer(
        b'{"credential": {"id": "abc"}, "name": "  My   key ", "next": "//evil.test",'
        b' "remember_me": true}'
    )

    assert vm.validate() is True
    assert (vm.credential, vm.name, vm.next, vm.remember_me) == (
        {"id": "abc"},
        "My key",
        "/account",
        True,
    )


@pytest.mark.parametrize(
    ("details", "description"),
    [
        ({"reason": "wrong_password"}, "Sign-in refused: wrong password"),
        ({}, "Sign-in refused"),
        ({"reason": "a reason of a later version"}, "Sign-in refused"),
    ],
    ids=["known reason", "recorded before reasons", "unknown reason"],
)
def test_a_refused_sign_in_is_described_by_its_reason_when_it_has_a_known_one(
    details, description
) -> None:
    row = event_row(_event(events.SIGN_IN_FAILED, details), ENGLISH)

    assert (row.description, row.outcome) == (description, "failed")
