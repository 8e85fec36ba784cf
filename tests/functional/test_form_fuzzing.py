"""Hypothesis posts random forms (fields, values, encodings, repeated keys) to every
POST route: no answer is ever a 5xx or shows a traceback."""

from __future__ import annotations

import os
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, sign_in
from tests.support import UNLIMITED_RATES, form_by_action

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))

FIELDS = [
    "email",
    "password",
    "confirm_password",
    "current_password",
    "came_from",
    "csrf_token",
    "username",
    "code",
    "remember_me",
]

text_values = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(
        [
            "alice@example.com",
            "ALICE@example.com ",
            "a@b.c\r\nBcc: x@evil.test",
            "' OR 1=1 --",
            "<script>alert(1)</script>",
            "//evil.test",
            "javascript:alert(1)",
            "\x00",
            "e\u0301",
            STRONG_PASSWORD,
        ]
    ),
).map(lambda s: s.encode("utf-8", "surrogatepass"))
raw_values = st.binary(max_size=200)
values = st.one_of(text_values, raw_values)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=12).map(str.encode))
pairs = st.lists(st.tuples(keys, values), max_size=8)


def _body(token: str, fields: list[tuple[bytes | str, bytes]], with_token: bool) -> bytes:
    items = [(k.encode() if isinstance(k, str) else k, v) for k, v in fields]
    if with_token:
        items.insert(0, (b"csrf_token", token.encode()))
    return "&".join(f"{quote_from_bytes(k)}={quote_from_bytes(v)}" for k, v in items).encode()


ANONYMOUS_ROUTES = [
    "/account/register",
    "/account/signin",
    "/account/forgot_password",
    "/account/signin/email_code",
]
SIGNED_IN_ROUTES = [
    "/account/change_password",
    "/account/sessions/revoke_others",
    "/account/sessions/{id}/revoke",
    "/account/logout",
]


@pytest.fixture
def fuzz_app(make_app, app_settings):
    # The limits would answer 429 after a few posts and hide the view code from the fuzzer.
    wsgi_app = make_app({**app_settings, **UNLIMITED_RATES})
    create_account(wsgi_app, "alice@example.com", STRONG_PASSWORD)
    return wsgi_app


def _check(response, route: str) -> None:
    assert response.status_int < 500, response.text[:800]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "route", [*ANONYMOUS_ROUTES, "/account/reset_password", "/account/signin/email_code/verify"]
)
def test_random_posts_to_anonymous_routes_never_fail(fuzz_app, route, smtp_server):
    client = new_client(fuzz_app)
    if route == "/account/reset_password":
        from tests.functional.flows import deliver_mail, forgot_password

        forgot_password(client, "alice@example.com")
        deliver_mail(fuzz_app)
        client.get(f"/account/reset_password/{smtp_server.mailbox.messages[-1].link_code}")
        token = form_by_action(client.get(route), route)["csrf_token"].value
    elif route == "/account/signin/email_code/verify":
        asking = form_by_action(
            client.get("/account/signin/email_code"), "/account/signin/email_code"
        )
        asking["email"] = "alice@example.com"
        asking.submit(status=303)
        token = form_by_action(client.get(route), route)["csrf_token"].value
    else:
        token = form_by_action(client.get(route), route)["csrf_token"].value

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(fields=pairs, with_token=st.booleans())
    def post(fields, with_token):
        body = _body(token, fields, with_token)
        response = client.post(
            route, body, content_type="application/x-www-form-urlencoded", status="*"
        )
        _check(response, route)

    post()


@pytest.mark.parametrize("route", SIGNED_IN_ROUTES)
def test_random_posts_to_signed_in_routes_never_fail(fuzz_app, route):
    client = new_client(fuzz_app)
    state: dict[str, str] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(
        fields=pairs,
        with_token=st.booleans(),
        session_id=st.one_of(st.integers(-5, 10**12), st.text(max_size=10)),
    )
    def post(fields, with_token, session_id):
        # Sign in again whenever an earlier example signed this client out, and read the
        # CSRF token again after anything that may have changed it (a sign-in, or a post
        # that succeeded); otherwise the token of the last example still holds.
        if not client.cookies.get("auth"):
            sign_in(client, "alice@example.com", STRONG_PASSWORD)
            state.clear()
        if "token" not in state:
            page = client.get("/account/sessions")
            state["token"] = form_by_action(page, "/account/logout")["csrf_token"].value
        url = route.replace("{id}", quote_from_bytes(str(session_id).encode()))
        body = _body(state["token"], fields, with_token)
        response = client.post(
            url, body, content_type="application/x-www-form-urlencoded", status="*"
        )
        _check(response, route)
        if response.status_int != 400:
            state.clear()

    post()
