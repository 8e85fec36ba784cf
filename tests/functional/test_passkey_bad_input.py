"""The passkey endpoints take JSON: malformed, oversized, mistyped or mangled answers
each get a 4xx with a message, never a 500, and change nothing."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.models import WebAuthnCredential
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, sign_in
from tests.functional.passkey_flows import Started, add_passkey, authenticator, start
from tests.passkey_authenticator import b64url
from tests.support import UNLIMITED_RATES

ALICE = "alice@example.com"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200")) // 2

VALID_SHAPE = {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}
BAD_BODIES: dict[str, tuple[bytes, str]] = {
    "not json": (b'{"credential": {', "application/json"),
    "invalid utf-8": (b'{"credential": {"id": "\xff\xfe"}}', "application/json"),
    "a list": (b"[1, 2, 3]", "application/json"),
    "a number": (b"42", "application/json"),
    "empty": (b"", "application/json"),
    "no credential": (b'{"name": "x"}', "application/json"),
    "credential a string": (b'{"credential": "x"}', "application/json"),
    "credential null": (b'{"credential": null}', "application/json"),
    "name a number": (
        json.dumps({"credential": VALID_SHAPE, "name": 5}).encode(),
        "application/json",
    ),
    "next an object": (
        json.dumps({"credential": VALID_SHAPE, "next": {"a": 1}}).encode(),
        "application/json",
    ),
    "deeply nested": (b'{"credential": ' + b"[" * 5000 + b"]" * 5000 + b"}", "application/json"),
    "over 32 KB": (json.dumps({"credential": {"id": "A" * 40_000}}).encode(), "application/json"),
    "a form instead": (b"credential=x&name=y", "application/x-www-form-urlencoded"),
    "wrong types inside": (
        json.dumps({"credential": {"id": 5, "rawId": [], "type": {}, "response": "x"}}).encode(),
        "application/json",
    ),
    "client data with a number for the challenge": (
        json.dumps(
            {
                "credential": {
                    **VALID_SHAPE,
                    "response": {
                        "clientDataJSON": b64url(
                            b'{"type": "webauthn.get", "challenge": 5, "origin": "x"}'
                        ),
                        "attestationObject": "AAAA",
                        "authenticatorData": "AAAA",
                        "signature": "AAAA",
                    },
                }
            }
        ).encode(),
        "application/json",
    ),
    "base64 garbage": (
        json.dumps(
            {
                "credential": {
                    "id": "!!",
                    "rawId": "!!",
                    "type": "public-key",
                    "response": {
                        "clientDataJSON": "!!",
                        "attestationObject": 7,
                        "authenticatorData": 5,
                        "signature": None,
                        "userHandle": 7,
                    },
                }
            }
        ).encode(),
        "application/json",
    ),
}


@pytest.fixture
def passkey_app(make_app, app_settings):
    wsgi_app = make_app({**app_settings, **UNLIMITED_RATES})
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    return wsgi_app


# Where each ceremony's button is.
BUTTONS = {
    "add": ("/account/passkeys", "passkey-add"),
    "sign in": ("/account/signin", "passkey-signin"),
    "second step": ("/account/signin/two_factor", "passkey-verify"),
    "reauthenticate": ("/account/reauthenticate", "passkey-reauthenticate"),
}
CEREMONIES = list(BUTTONS)


def _ceremony(wsgi_app, which: str) -> tuple[Any, Started, Any]:
    """A client with a ceremony under way, and the authenticator that can answer it."""
    device = authenticator()
    owner = new_client(wsgi_app)
    sign_in(owner, ALICE, STRONG_PASSWORD)
    client = owner
    if which != "add":
        add_passkey(owner, device)
        if which != "reauthenticate":
            client = new_client(wsgi_app)
        if which == "second step":
            sign_in(client, ALICE, STRONG_PASSWORD)
    return client, start(client, *BUTTONS[which]), device


def _passkey_count(wsgi_app) -> int:
    with db(wsgi_app) as session:
        return len(list(session.scalars(select(WebAuthnCredential))))


@pytest.mark.parametrize("which", CEREMONIES)
def test_bad_json_gets_a_clear_400(passkey_app, which):
    client, started, _ = _ceremony(passkey_app, which)
    before = _passkey_count(passkey_app)
    for body, (payload, content_type) in BAD_BODIES.items():
        # A fresh challenge for each, so that the answer is read, not refused unread.
        started = start(client, *BUTTONS[which])
        response = client.post(
            started.answer_url,
            payload,
            headers={"X-CSRF-Token": started.csrf},
            content_type=content_type,
            status="*",
        )
        assert response.status_int == 400, (body, response.status, response.text[:300])
        assert response.content_type == "application/json", body
        assert response.json["error"], body
    assert _passkey_count(passkey_app) == before


@pytest.mark.parametrize("which", CEREMONIES)
def test_a_huge_body_is_refused_before_it_is_read(passkey_app, which):
    client, started, _ = _ceremony(passkey_app, which)
    client.post(
        started.answer_url,
        b'{"credential": "' + b"A" * (1024 * 1024) + b'"}',
        headers={"X-CSRF-Token": started.csrf},
        content_type="application/json",
        status=413,
    )


OPTIONS_URLS = {
    "add": "/account/passkeys/add/options",
    "sign in": "/account/signin/passkey/options",
    "second step": "/account/signin/two_factor/passkey/options",
    "reauthenticate": "/account/reauthenticate/passkey/options",
}


@pytest.mark.parametrize("which", CEREMONIES)
def test_a_json_post_without_the_csrf_token_is_refused(passkey_app, which):
    client, started, device = _ceremony(passkey_app, which)
    credential = (device.create if which == "add" else device.get)(started.options)
    before = _passkey_count(passkey_app)
    client.post_json(started.answer_url, {"credential": credential}, status=400)
    client.post(OPTIONS_URLS[which], status=400)
    assert _passkey_count(passkey_app) == before


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    return found


@pytest.mark.parametrize("which", ["add", "sign in"])
def test_a_mangled_answer_never_fails_the_server(passkey_app, which):
    """Hypothesis takes a valid answer to a fresh challenge and replaces one part of it
    (anything from a whole member to one field deep inside) with arbitrary JSON."""
    client, started, device = _ceremony(passkey_app, which)
    page, button = {
        "add": ("/account/passkeys", "passkey-add"),
        "sign in": ("/account/signin", "passkey-signin"),
    }[which]
    template = (device.create if which == "add" else device.get)(started.options)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(path=st.sampled_from(_paths(template)), value=json_values)
    def post(path, value):
        current = start(client, page, button)
        if which == "add":
            valid = authenticator().create(current.options)
        else:
            valid = device.get(current.options)
        target = valid
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        response = client.post_json(
            current.answer_url,
            {"credential": valid},
            headers={"X-CSRF-Token": current.csrf},
            status="*",
        )
        assert response.status_int in (200, 400), response.text[:500]
        assert response.content_type == "application/json"

    post()
