"""Cross-origin calls (docs/security.md 69): only the origins of api.allowed_origins,
one by one and never `*`, get CORS headers, with credentials."""

from __future__ import annotations

import pytest

from tests.conftest import new_client

SHOP = "https://shop.example.com"
STRANGER = "https://evil.example.net"


@pytest.fixture
def cors_app(make_app, app_settings):
    return make_app({**app_settings, "api.allowed_origins": SHOP})


def test_an_allowed_origin_is_answered_by_name_with_credentials(cors_app):
    response = new_client(cors_app).get("/api/v1/session", headers={"Origin": SHOP})
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in response.headers["Vary"]


def test_another_origin_gets_no_cors_header(cors_app):
    response = new_client(cors_app).get("/api/v1/session", headers={"Origin": STRANGER})
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_preflights_are_answered_for_allowed_origins_only(cors_app):
    client = new_client(cors_app)
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = client.options("/api/v1/session", headers={"Origin": SHOP, **ask}, status=204)
    assert "X-CSRF-Token" in allowed.headers["Access-Control-Allow-Headers"]
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    refused = client.options("/api/v1/session", headers={"Origin": STRANGER, **ask}, status=403)
    assert refused.json["errors"][0]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_errors_and_pages_outside_the_api_are_left_alone(cors_app):
    client = new_client(cors_app)
    error = client.get("/api/v1/account", headers={"Origin": SHOP}, status=401)
    assert error.headers["Access-Control-Allow-Origin"] == SHOP
    page = client.get("/account/signin", headers={"Origin": SHOP})
    assert "Access-Control-Allow-Origin" not in page.headers


def test_without_the_setting_no_origin_is_allowed(wsgi_app):
    response = new_client(wsgi_app).get("/api/v1/session", headers={"Origin": SHOP})
    assert "Access-Control-Allow-Origin" not in response.headers
