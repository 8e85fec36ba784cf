"""Browser mode from another origin of the site over HTTPS, as a shop's single-page app
calls the API in production (api.allowed_origins, docs/security.md 69). On HTTPS, Pyramid
also checks the Origin of an unsafe request against the trusted origins; the browser
test (tests/browser/test_single_page_app.py) runs on plain HTTP, where it does not."""

from __future__ import annotations

import pytest
import webtest

from tests.conftest import CLIENT_IP, STRONG_PASSWORD
from tests.functional.flows import create_account

ALICE = "alice@example.com"
SHOP = "https://shop.example.test"
OWN = "https://accounts.example.test"


@pytest.fixture
def https_client(make_app, app_settings):
    wsgi_app = make_app({**app_settings, "api.allowed_origins": SHOP})
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    return webtest.TestApp(
        wsgi_app,
        extra_environ={
            "REMOTE_ADDR": CLIENT_IP,
            "HTTP_HOST": "accounts.example.test",
            "wsgi.url_scheme": "https",
        },
    )


def _sign_in(client: webtest.TestApp, origin: str) -> webtest.TestResponse:
    """What a page of `origin` does: read the CSRF token, then sign in with it."""
    state = client.get("/api/v1/session", headers={"Origin": origin, "X-CSRF-Token": ""})
    return client.post_json(
        "/api/v1/session",
        {"email": ALICE, "password": STRONG_PASSWORD},
        headers={"Origin": origin, "X-CSRF-Token": state.json["csrf_token"]},
        status="*",
    )


def test_the_app_s_own_origin_signs_in_over_https(https_client):
    answer = _sign_in(https_client, OWN)
    assert answer.status_int == 201, answer.text
    assert answer.json["session_token"] is None


def test_an_allowed_origin_signs_in_over_https(https_client):
    answer = _sign_in(https_client, SHOP)
    assert answer.status_int == 201, answer.text
    assert answer.headers["Access-Control-Allow-Origin"] == SHOP
    assert "auth" in https_client.cookies


def test_another_origin_is_refused_over_https_even_with_the_token(https_client):
    answer = _sign_in(https_client, "https://evil.example.net")
    assert answer.status_int == 403
    assert answer.json["errors"][0]["code"] == "csrf_token_invalid"
    assert "Access-Control-Allow-Origin" not in answer.headers
