"""Rate limits: 429 with Retry-After, on memory and on a real Redis server."""

from __future__ import annotations

import logging
import secrets

import pytest
from limits.storage import storage_from_string
from pyramid.config import Configurator

from app.services.kernel.errors import RateLimited
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import (
    choose_password,
    create_account,
    deliver_mail,
    forgot_password,
    open_link,
    sign_in,
)
from tests.support import form_by_action

ALICE = "alice@example.com"


@pytest.fixture(params=["memory", "redis"])
def limited_app(request, make_app, app_settings):
    settings = dict(app_settings)
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        settings["ratelimit.storage_uri"] = url
        # Keys from earlier tests on the same server must not count here.
        storage_from_string(url).reset()
    return make_app(settings)


def _csrf(client, url: str) -> str:
    return form_by_action(client.get(url), url)["csrf_token"].value


def test_failed_sign_ins_are_limited_per_account(limited_app):
    create_account(limited_app, ALICE, STRONG_PASSWORD)
    statuses = []
    for attempt in range(12):
        client = new_client(limited_app, ip=f"198.51.100.{attempt + 1}")
        statuses.append(sign_in(client, ALICE, "wrong password guess", status="*").status_int)
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]
    # Even the right password is refused while the account is locked...
    locked = sign_in(new_client(limited_app, ip="192.0.2.50"), ALICE, STRONG_PASSWORD, status=429)
    assert int(locked.headers["Retry-After"]) > 0
    assert "Try again in" in locked.text


def test_failed_sign_ins_are_limited_per_ip(limited_app):
    client = new_client(limited_app, ip="198.51.100.99")
    token = _csrf(client, "/account/signin")
    statuses = [
        client.post(
            "/account/signin",
            {"csrf_token": token, "email": f"user{i}@example.com", "password": "guess"},
            status="*",
        ).status_int
        for i in range(52)
    ]
    assert statuses[:50] == [400] * 50
    assert statuses[50:] == [429, 429]
    # Another address is not affected.
    sign_in(new_client(limited_app, ip="198.51.100.100"), "x@example.com", "guess", status=400)


def test_a_locked_out_attacker_cannot_stop_the_owner_from_resetting(limited_app, smtp_server):
    create_account(limited_app, ALICE, STRONG_PASSWORD)
    attacker = new_client(limited_app, ip="198.51.100.66")
    for _ in range(12):
        sign_in(attacker, ALICE, "guessing away", status="*")
    owner = new_client(limited_app, ip="192.0.2.10")
    forgot_password(owner, ALICE)
    deliver_mail(limited_app)
    open_link(owner, smtp_server.mailbox.to(ALICE)[0].link_code)
    choose_password(owner, "a brand new sturdy passphrase")
    sign_in(owner, ALICE, "a brand new sturdy passphrase", status=303)


def test_reset_requests_are_limited_per_email_and_the_mailbox_gets_at_most_the_limit(
    limited_app, smtp_server
):
    create_account(limited_app, ALICE, STRONG_PASSWORD)
    statuses = [
        forgot_password(new_client(limited_app, ip=f"198.51.100.{i}"), ALICE, status="*").status_int
        for i in range(1, 8)
    ]
    assert statuses == [303] * 3 + [429] * 4
    deliver_mail(limited_app)
    assert len(smtp_server.mailbox.to(ALICE)) == 3


def test_reset_requests_are_limited_per_ip(limited_app):
    client = new_client(limited_app, ip="198.51.100.5")
    token = _csrf(client, "/account/forgot_password")
    statuses = [
        client.post(
            "/account/forgot_password",
            {"csrf_token": token, "email": f"someone{i}@example.com"},
            status="*",
        ).status_int
        for i in range(22)
    ]
    assert statuses == [303] * 20 + [429] * 2


def test_guessing_codes_is_limited_per_ip_and_never_succeeds(limited_app, smtp_server):
    create_account(limited_app, ALICE, STRONG_PASSWORD)
    forgot_password(new_client(limited_app, ip="192.0.2.1"), ALICE)
    guesser = new_client(limited_app, ip="198.51.100.200")
    statuses = [
        guesser.get(f"/account/reset_password/{secrets.token_urlsafe(32)}", status="*").status_int
        for _ in range(200)
    ]
    assert 303 not in statuses
    assert statuses[:20] == [400] * 20
    assert set(statuses[20:]) == {429}
    # The owner, elsewhere, is not affected.
    deliver_mail(limited_app)
    open_link(new_client(limited_app), smtp_server.mailbox.to(ALICE)[0].link_code, status=303)


def test_valid_codes_do_not_count_against_the_limit(limited_app, smtp_server):
    create_account(limited_app, ALICE, STRONG_PASSWORD)
    forgot_password(new_client(limited_app, ip="192.0.2.1"), ALICE)
    deliver_mail(limited_app)
    code = smtp_server.mailbox.to(ALICE)[0].link_code
    client = new_client(limited_app, ip="198.51.100.201")
    for _ in range(30):
        open_link(client, code, status=303)


def test_registrations_are_limited_per_ip(limited_app):
    client = new_client(limited_app, ip="198.51.100.7")
    token = _csrf(client, "/account/register")
    statuses = [
        client.post(
            "/account/register",
            {
                "csrf_token": token,
                "email": f"new{i}@example.com",
                "password": "x",
                "confirm_password": "x",
            },
            status="*",
        ).status_int
        for i in range(12)
    ]
    assert statuses == [400] * 10 + [429] * 2


def test_a_spoofed_forwarded_for_header_is_ignored(limited_app):
    statuses = []
    for i in range(55):
        client = new_client(limited_app, ip="198.51.100.44")
        client.extra_environ["HTTP_X_FORWARDED_FOR"] = f"10.0.{i}.1"
        statuses.append(sign_in(client, f"u{i}@example.com", "guess", status="*").status_int)
    assert statuses[50:] == [429] * 5


def test_forwarded_for_is_used_behind_a_trusted_proxy(make_app, app_settings):
    wsgi_app = make_app({**app_settings, "app.trusted_proxies": "127.0.0.1"})
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app, ip="127.0.0.1")
    client.extra_environ["HTTP_X_FORWARDED_FOR"] = "192.0.2.33"
    sign_in(client, ALICE, STRONG_PASSWORD)
    assert "192.0.2.33" in client.get("/account/sessions").text


def test_the_limits_keep_holding_in_memory_when_redis_is_unreachable(
    make_app, app_settings, caplog
):
    from tests.support import free_port

    dead = f"redis://127.0.0.1:{free_port()}/0"
    wsgi_app = make_app({**app_settings, "ratelimit.storage_uri": dead})
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    with caplog.at_level(logging.ERROR, logger="app"):
        statuses = [
            sign_in(new_client(wsgi_app), ALICE, "wrong guess", status="*").status_int
            for _ in range(12)
        ]
    assert statuses == [400] * 10 + [429] * 2
    errors = [r for r in caplog.records if "Rate-limit storage unavailable" in r.getMessage()]
    assert len(errors) == 1  # once a minute, not once a request
    assert errors[0].levelname == "ERROR"


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(1, "1 minute"), (60, "1 minute"), (61, "2 minutes"), (3600, "60 minutes")],
)
def test_the_429_page_says_how_many_whole_minutes_to_wait(make_app, app_settings, seconds, said):
    wsgi_app = make_app(app_settings)

    def limited(request):
        raise RateLimited(seconds)

    config = Configurator(registry=wsgi_app.registry)
    config.add_route("test.limited", "/test/limited")
    config.add_view(limited, route_name="test.limited")
    config.commit()

    page = new_client(wsgi_app).get("/test/limited", status=429)

    assert page.headers["Retry-After"] == str(seconds)
    told = page.html.select_one(".notice-error p").get_text(" ", strip=True)
    assert told == f"There have been too many attempts. Try again in {said}."
