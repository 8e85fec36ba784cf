"""Emailed links of flows started through the JSON API: on this site's pages, or, with
api.frontend_url set, on the shop's own pages, the code in the fragment as the `key`."""

from __future__ import annotations

import re

import pytest

from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, deliver_mail, register

NEWCOMER = "newcomer@example.com"
SHOP = "https://shop.example.com/account"


@pytest.fixture
def shop_app(make_app, app_settings):
    return make_app({**app_settings, "api.frontend_url": SHOP + "/"})


def mailed_link(smtp_server, address: str) -> str:
    [mail] = smtp_server.mailbox.to(address)
    match = re.search(r"https?://\S+", mail.text)
    assert match is not None
    return match.group(0)


def test_with_a_frontend_the_api_registration_link_opens_the_shops_page(shop_app, smtp_server):
    client = new_client(shop_app)
    client.post_json(
        "/api/v1/accounts", {"email": NEWCOMER, "password": STRONG_PASSWORD}, status=202
    )
    deliver_mail(shop_app)
    link = mailed_link(smtp_server, NEWCOMER)
    assert link.startswith(SHOP + "/confirm_email#key=")
    key = link.split("#key=", 1)[1]
    done = client.post_json("/api/v1/email/confirm", {"key": key, "password": STRONG_PASSWORD})
    assert done.status_int == 201
    assert done.json["account"]["email_confirmed_at"] is not None
    assert done.json["session_token"]


def test_with_a_frontend_the_pages_own_flows_keep_this_sites_links(shop_app, smtp_server):
    register(new_client(shop_app), NEWCOMER, STRONG_PASSWORD)
    deliver_mail(shop_app)
    assert "/account/verify_email/" in mailed_link(smtp_server, NEWCOMER)


def test_the_api_reset_link_carries_the_key_to_the_shop(shop_app, smtp_server):
    create_account(shop_app, NEWCOMER, STRONG_PASSWORD)
    client = new_client(shop_app)
    client.post_json("/api/v1/password/forgot", {"email": NEWCOMER}, status=202)
    deliver_mail(shop_app)
    link = mailed_link(smtp_server, NEWCOMER)
    assert link.startswith(SHOP + "/reset_password#key=")
    key = link.split("#key=", 1)[1]
    new_password = "a different long passphrase 42"
    client.post_json("/api/v1/password/reset", {"key": key, "password": new_password})
    used = client.post_json(
        "/api/v1/password/reset", {"key": key, "password": new_password}, status=400
    ).json
    assert used["errors"][0]["code"] == "link_used"
    client.post_json("/api/v1/session", {"email": NEWCOMER, "password": new_password}, status=201)


def test_without_a_frontend_api_links_open_this_sites_pages(wsgi_app, smtp_server):
    new_client(wsgi_app).post_json("/api/v1/password/forgot", {"email": "x@example.com"})
    create_account(wsgi_app, NEWCOMER, STRONG_PASSWORD)
    new_client(wsgi_app).post_json("/api/v1/password/forgot", {"email": NEWCOMER}, status=202)
    deliver_mail(wsgi_app)
    assert "/account/reset_password/" in mailed_link(smtp_server, NEWCOMER)
