"""The request body limit (app.max_body_bytes) at its exact edge: a body of exactly the
limit is read and served, one byte more is refused with 413 before it is read."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account
from tests.support import form_by_action

ALICE = "alice@example.com"
DEFAULT_LIMIT = 64 * 1024


def _sign_in_body(client, size: int) -> bytes:
    """A real sign-in form of exactly `size` bytes, padded with a field nobody reads."""
    token = form_by_action(client.get("/account/signin"), "/account/signin")["csrf_token"].value
    form = (
        f"csrf_token={quote(token)}&email={quote(ALICE)}&password={quote(STRONG_PASSWORD)}&padding="
    )
    assert len(form) < size
    return (form + "x" * (size - len(form))).encode("ascii")


def _post(client, body: bytes):
    return client.post(
        "/account/signin",
        body,
        content_type="application/x-www-form-urlencoded",
        status="*",
    )


@pytest.mark.parametrize("limit", [None, 2000], ids=["default", "configured"])
def test_a_body_of_exactly_the_limit_is_served_and_one_byte_more_is_refused(
    make_app, app_settings, limit
):
    settings = dict(app_settings)
    if limit is not None:
        settings["app.max_body_bytes"] = str(limit)
    size = limit or DEFAULT_LIMIT
    wsgi_app = make_app(settings)
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)

    over = new_client(wsgi_app)
    refused = _post(over, _sign_in_body(over, size + 1))
    assert refused.status_int == 413
    assert "auth" not in over.cookies

    exact = new_client(wsgi_app)
    served = _post(exact, _sign_in_body(exact, size))
    assert served.status_int == 303
    assert "auth" in exact.cookies
