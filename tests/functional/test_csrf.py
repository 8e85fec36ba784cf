"""Every POST needs the CSRF token; without it nothing changes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Account, OneTimeCode, OutgoingEmail

from ..conftest import STRONG_PASSWORD, new_client
from .flows import create_account, db, sign_in

ALICE = "alice@example.com"


@pytest.mark.parametrize("token", [None, "", "forged-token-from-another-site"])
@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("/account/register", {"email": "new@example.com", "password": STRONG_PASSWORD}),
        ("/account/signin", {"email": ALICE, "password": STRONG_PASSWORD}),
        ("/account/forgot_password", {"email": ALICE}),
        ("/account/reset_password", {"password": STRONG_PASSWORD}),
        ("/account/logout", {}),
    ],
)
def test_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(
    wsgi_app, url, fields, token
):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    client.get("/")  # a session with a real token exists, but is not sent
    body = dict(fields, confirm_password=fields.get("password", ""))
    if token is not None:
        body["csrf_token"] = token
    response = client.post(url, body, status=400)
    assert "The form has expired" in response.text
    assert "auth" not in client.cookies
    with db(wsgi_app) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 1
        assert session.scalar(select(func.count()).select_from(OneTimeCode)) == 0
        assert session.scalar(select(func.count()).select_from(OutgoingEmail)) == 0


def test_sign_out_without_the_token_keeps_the_session(wsgi_app, client):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    sign_in(client, ALICE, STRONG_PASSWORD)
    client.post("/account/logout", {}, status=400)
    client.get("/account", status=200)
