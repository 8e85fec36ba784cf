"""What every view model shares: reading a form safely and reporting one error."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from app.i18n import translated
from app.services.kernel.email_addresses import InvalidEmail, clean_email
from app.translation import _

# A form value longer than this is refused before any work is done with it. Passwords
# have their own, lower, limit; this keeps megabyte fields away from everything else.
MAX_FIELD_LENGTH = 4096


class ViewModelBase:
    """A form: its values, and what is wrong with them. `error` is a problem of the whole
    form (a wrong password at sign-in); `errors` holds each field's own, shown beside
    the field and listed in the summary at the top, in the order of FIELDS."""

    # The form's fields in page order, with the label the error summary names them by.
    FIELDS: tuple[tuple[str, str], ...] = ()
    # Password fields, whose values are given back only when another field was at fault.
    SECRET_FIELDS: frozenset[str] = frozenset()
    # The field a service's refusal concerns, by the refusal's class; others concern the
    # whole form.
    REFUSAL_FIELDS: tuple[tuple[type[Exception], str], ...] = ()

    def __init__(self, request: Request) -> None:
        self.request = request
        self.error: str | None = None
        self.errors: dict[str, str] = {}

    def translate(self, message: str) -> str:
        """A message (a translation string) in the request's language."""
        return translated(self.request, message)

    def fail(self, field: str, message: str) -> None:
        """Record what is wrong with a field (the first problem found is the one shown)."""
        self.errors.setdefault(field, self.translate(message))

    def refused(self, error: Exception) -> None:
        """Show a service's refusal beside the field it concerns, or over the form."""
        message = getattr(error, "message", None) or str(error)
        for kind, field in self.REFUSAL_FIELDS:
            if isinstance(error, kind):
                self.fail(field, message)
                return
        self.error = self.translate(message)

    @property
    def is_valid(self) -> bool:
        return self.error is None and not self.errors

    def summary(self) -> list[tuple[str, str]]:
        """(field, message) for the error summary, in the order the fields appear."""
        order = [name for name, _ in self.FIELDS]
        return sorted(self.errors.items(), key=lambda item: _position(order, item[0]))

    def label(self, field: str) -> str:
        return dict(self.FIELDS).get(field, field)

    def attrs(self, field: str, help_id: str | None = None, focus: bool = False) -> dict[str, Any]:
        """The attributes that tie a field to its error and help text, and put the focus
        on the first field at fault (or, with no fault, on the field marked `focus`)."""
        invalid = field in self.errors
        described = ([f"{field}-error"] if invalid else []) + ([help_id] if help_id else [])
        if self.errors:
            focus = field == self.summary()[0][0]
        elif self.error:
            focus = False  # the summary takes the focus
        return {
            "aria-invalid": "true" if invalid else None,
            "aria-describedby": " ".join(described) or None,
            "autofocus": "autofocus" if focus else None,
        }

    def kept(self, field: str) -> str | None:
        """A password field's value to give back after an error, as a browser would keep
        it: only when the form was refused for another field. Never after success, and
        never when the password itself, or the sign-in, was what failed."""
        if field not in self.SECRET_FIELDS or self.error or not self.errors:
            return None
        if any(name in self.SECRET_FIELDS for name in self.errors):
            return None
        value = getattr(self, field)
        return value if isinstance(value, str) and value else None

    def form_value(self, name: str, max_length: int = MAX_FIELD_LENGTH) -> str:
        """One field of the POSTed form as text; '' when absent.

        A repeated field or an over-long value sets an error instead of being guessed at."""
        values = self.request.POST.getall(name)
        if not values:
            return ""
        if len(values) > 1:
            self.error = self.error or self.translate(
                _("The form was sent with a field repeated. Please try again.")
            )
            return ""
        value = values[0]
        if not isinstance(value, str):
            # A file upload where text was expected.
            self.error = self.error or self.translate(
                _("The form was sent in an unexpected format.")
            )
            return ""
        if len(value) > max_length:
            self.error = self.error or self.translate(_("A field of the form is far too long."))
            return ""
        return value

    def clean_email_field(self, raw: str, field: str = "email") -> str | None:
        """The address cleaned for storage, or None with the reason set as the field's
        error."""
        try:
            return clean_email(raw)
        except InvalidEmail as exc:
            self.fail(field, exc.message)
            return None

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.error, "form": self}


def _position(order: list[str], field: str) -> int:
    return order.index(field) if field in order else len(order)


def safe_redirect_path(candidate: str | None, default: str = "/account") -> str:
    """A same-site path to go to after sign-in, or the default.

    Accepts only a path that starts with a single '/' and names no other host, which
    rules out https://evil.test, //evil.test, /\\evil.test, https:evil.test, javascript:."""
    if not isinstance(candidate, str) or not candidate or len(candidate) > 2000:
        # A file uploaded in its place cannot even be tested for truth.
        return default
    if not candidate.isascii():
        # Non-ASCII cannot go into a Location header as it is.
        return default
    if any(ch in candidate for ch in "\\\r\n\t\x00") or not candidate.isprintable():
        return default
    # A path that starts with a single "/" (and has no backslash) has no scheme and
    # names no host: urlsplit() would find neither.
    if not candidate.startswith("/") or candidate.startswith("//"):
        return default
    return candidate


def check_new_password(vm: ViewModelBase, password: str, confirm_password: str) -> None:
    """The new password was given, the same twice; the policy is the service's."""
    if not password:
        vm.fail("password", _("Choose a password."))
    elif not confirm_password:
        vm.fail("confirm_password", _("Type the password again, to be sure of it."))
    elif password != confirm_password:
        vm.fail("confirm_password", _("The two passwords do not match."))
