"""Schemathesis generates requests from the API's own OpenAPI document
(GET /api/v1/openapi.json) and sends them to the app in-process: valid bodies and
invalid ones, anonymous and signed in with a bearer token. Every answer must be one the
document lists for the operation (never a 5xx), with the documented media type and a
body that matches the documented schema, and an invalid request must be refused with a
4xx (docs/security.md 68 and 70)."""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, deliver_mail, services
from tests.support import UNLIMITED_RATES

try:
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import (
        content_type_conformance,
        negative_data_rejection,
        not_a_server_error,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )
except ImportError:
    schemathesis = None

# Generated cases per operation, of valid data and again of invalid data. Each costs a
# few milliseconds; the whole file stays well under a minute with the operations there
# are. API_FUZZ_EXAMPLES=500 digs deeper by hand.
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "20"))

# Values the services accept, which a valid case may carry instead of the generated
# ones (random strings are hardly ever an email address or a strong password): so the
# cases also get past those checks, to the answers of a registration, a changed
# password or address, a re-authentication. The addresses are a new one and one that
# has an account; the accounts of the signed-in run start with STRONG_PASSWORD, and a
# case may change it to OTHER_PASSWORD.
WELL_FORMED = {
    "email": ("newcomer@example.com", "owner1@example.com"),
    "password": (STRONG_PASSWORD, OTHER_PASSWORD),
    "current_password": (STRONG_PASSWORD, OTHER_PASSWORD),
}

# Operations whose answers do not match the document yet, with the reason: the main
# runs leave them out, and each has a run of its own that is expected to fail, until
# the document or the operation is fixed (then that run passes, and strict xfail says
# to remove the entry).
KNOWN_MISMATCHES: dict[str, str] = {}


def _runs() -> list[Any]:
    """All the operations but the known mismatches, then each of those alone."""
    return [pytest.param(None, id="all")] + [
        pytest.param(
            label,
            id=label.replace(" ", ""),
            marks=pytest.mark.xfail(strict=True, reason=reason, raises=AssertionError),
        )
        for label, reason in KNOWN_MISMATCHES.items()
    ]


def _require_schemathesis() -> None:
    if schemathesis is None:
        reason = "schemathesis is not installed: pip install -e '.[testing]'"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


# The headers every case of a run gets, and what a run is told of each answer.
Headers = Callable[[], dict[str, str]]
Answered = Callable[[str, int], None]


@pytest.fixture
def fuzz_app(make_app, app_settings):
    # The limits would answer 429 after a few requests and keep the generated cases
    # from the operations behind them.
    return make_app({**app_settings, **UNLIMITED_RATES})


class Fuzzer:
    """Runs the generated cases of the document's operations against the app, and
    keeps what it saw: the failures, and each answer's status and error codes."""

    def __init__(self, wsgi_app: Any, only: str | None, credentials: bool) -> None:
        """`credentials`: whether the cases carry made-up credentials of the schemes
        the document names (a bearer token, an `auth` cookie) where an operation asks
        for them; the signed-in run sends its own token instead."""
        _require_schemathesis()
        config = schemathesis.Config.from_dict(
            {"generation": {"with-security-parameters": credentials}}
        )
        self.schema = schemathesis.openapi.from_wsgi(
            "/api/v1/openapi.json", wsgi_app, config=config
        )
        self.only = only
        self.failures: list[str] = []
        self.answers: Counter[tuple[str, int]] = Counter()
        self.error_codes: Counter[tuple[str, str]] = Counter()
        # No 5xx; a status the operation documents, with its media type, headers and
        # body schema; invalid data refused with a 4xx. The other built-in checks judge
        # what an API might do rather than what this one documents (a sign-in with a
        # well-formed unknown address rightly answers 401, not a 2xx).
        self.checks = [
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
            negative_data_rejection,
        ]

    def operations(self) -> list[Any]:
        found = []
        for result in self.schema.get_all_operations():
            if not hasattr(result, "ok"):
                self.failures.append(f"the document has an invalid operation: {result.err()}")
                continue
            operation = result.ok()
            wanted = (
                operation.label == self.only
                if self.only
                else (operation.label not in KNOWN_MISMATCHES)
            )
            if wanted:
                found.append(operation)
        if not found:
            # Not an AssertionError: a known mismatch whose operation is gone must not
            # pass for its expected failure.
            pytest.fail(f"no operation {self.only or ''} in the document", pytrace=False)
        return found

    def run(self, headers: Headers, answered: Answered | None = None) -> None:
        """Every operation, valid data then invalid, with `headers()` on each case;
        `answered(method, status)` is told each answer."""
        for operation in self.operations():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                self._run(operation, mode, headers, answered)

    def _run(self, operation: Any, mode: Any, headers: Headers, answered: Answered | None) -> None:
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
        def send(case: Any, data: Any) -> None:
            if mode is GenerationMode.POSITIVE and isinstance(case.body, dict):
                for name, values in WELL_FORMED.items():
                    if name in case.body:
                        case.body[name] = data.draw(st.sampled_from([case.body[name], *values]))
            response = case.call(headers=headers())
            if answered is not None:
                answered(case.method, response.status_code)
            self.answers[(operation.label, response.status_code)] += 1
            if response.headers.get("content-type", [""])[0].startswith("application/json"):
                body = response.json()
                for error in body.get("errors", []) if isinstance(body, dict) else []:
                    self.error_codes[(operation.label, error.get("code"))] += 1
            case.validate_response(response, checks=self.checks)

        try:
            send()
        except Unsatisfiable:
            # Nothing of the request can be made invalid: no body, no parameters.
            if mode is not GenerationMode.NEGATIVE:
                raise
        except (Exception, BaseExceptionGroup) as exc:
            self.failures.append(f"{operation.label} ({mode.name.lower()} data):\n{exc}")

    def assert_no_failures(self) -> None:
        assert self.failures == [], "\n\n".join(self.failures)

    def send(self, label: str, **parts: Any) -> Any:
        """One request made by hand (for an answer generated cases cannot reach), checked
        like the generated ones: its response, or an AssertionError saying what does
        not match the document."""
        method, path = label.split(" ", 1)
        case = self.schema[path][method].Case(**parts)
        response = case.call()
        try:
            case.validate_response(response, checks=self.checks)
        except (Exception, BaseExceptionGroup) as exc:
            raise AssertionError(f"{label}:\n{exc}") from None
        return response


@pytest.mark.parametrize("only", _runs())
def test_anonymous_requests_keep_to_the_document(fuzz_app, only):
    fuzzer = Fuzzer(fuzz_app, only, credentials=True)
    fuzzer.run(dict)
    fuzzer.assert_no_failures()


@pytest.mark.parametrize("only", _runs())
def test_signed_in_requests_keep_to_the_document(fuzz_app, only):
    """Each case carries the bearer token of a session in app mode. Some cases end that
    session or take its account away (signing out, revoking a session by its id,
    changing the password, deleting the account): after any change that succeeded, the
    token is checked, and a new session opened (on a new account) when it no longer
    works, so that these operations stay in the run and every case is sent signed in."""
    client = new_client(fuzz_app)
    numbers = itertools.count(1)
    current = {"token": "", "changed": False}

    def new_session() -> str:
        email = f"owner{next(numbers)}@example.com"
        create_account(fuzz_app, email, STRONG_PASSWORD)
        answer = client.post_json(
            "/api/v1/session", {"email": email, "password": STRONG_PASSWORD}, status=201
        )
        return answer.json["session_token"]

    def signed_in() -> dict[str, str]:
        token = current["token"]
        if token and current["changed"]:
            state = client.get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})
            if not state.json["signed_in"]:
                token = ""
        if not token:
            token = current["token"] = new_session()
        return {"Authorization": f"Bearer {token}"}

    def answered(method: str, status: int) -> None:
        current["changed"] = method != "GET" and status < 300

    fuzzer = Fuzzer(fuzz_app, only, credentials=False)
    fuzzer.run(signed_in, answered)
    fuzzer.assert_no_failures()
    # The token reached the app: no case was refused for want of a sign-in.
    assert [key for key in fuzzer.error_codes if key[1] == "not_signed_in"] == []


def test_a_confirmation_that_asks_for_the_second_factor_keeps_to_the_document(
    fuzz_app, smtp_server, clock
):
    """Confirming the address of an account that has a second factor by now answers
    401 second_factor_required with a pending token, as a sign-in does; generated keys
    never reach it."""
    carol = "carol@example.com"
    new_client(fuzz_app).post_json(
        "/api/v1/accounts", {"email": carol, "password": STRONG_PASSWORD}, status=202
    )
    deliver_mail(fuzz_app)
    key = smtp_server.mailbox.to(carol)[-1].link_code
    with db(fuzz_app) as session, session.begin():
        account = services(fuzz_app, session).accounts.find_account_by_email(carol)
        secret = pyotp.random_base32()
        services(fuzz_app, session).two_factor.enable_totp(
            account, secret, pyotp.TOTP(secret).at(clock.now())
        )
    clock.advance(seconds=30)
    fuzzer = Fuzzer(fuzz_app, None, credentials=False)
    response = fuzzer.send(
        "POST /api/v1/email/confirm",
        body={"key": key, "password": STRONG_PASSWORD},
        media_type="application/json",
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "second_factor_required"
