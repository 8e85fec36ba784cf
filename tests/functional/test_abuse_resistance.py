"""Abuse resistance, second round (docs/security.md 29-31, 36-38): what an outside
attacker tried, each shown to fail."""

from __future__ import annotations

import base64
import configparser
import json
import secrets
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.mail.templates import MailTemplates
from app.models import LoginSession
from app.services.kernel import audit as events
from app.settings import AppSettings
from app.web.headers import CONTENT_SECURITY_POLICY
from tests.conftest import BASE_URL, ROOT, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    create_account,
    db,
    deliver_mail,
    forgot_password,
    open_link,
    recorded_events,
    register,
    sign_in,
    sign_out,
)
from tests.support import UNLIMITED_RATES, form_by_action

ALICE = "alice@example.com"


# Item 31: device cookies


def test_strangers_locking_an_account_do_not_lock_out_the_owners_known_browser(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    owner = new_client(wsgi_app, ip="192.0.2.10")
    sign_in(owner, ALICE, STRONG_PASSWORD)
    assert owner.cookies.get("device")
    sign_out(owner)

    statuses = [
        sign_in(new_client(wsgi_app, ip=f"198.51.100.{n}"), ALICE, "a guess", status="*").status_int
        for n in range(1, 13)
    ]
    assert statuses == [400] * 10 + [429] * 2

    # The owner's browser, known to the account, signs in with the right password...
    sign_in(owner, ALICE, STRONG_PASSWORD, status=303)
    # ...and can still change the password, which counts against its own allowance.
    form = form_by_action(owner.get("/account/change_password"), "/account/change_password")
    form["current_password"] = STRONG_PASSWORD
    form["password"] = form["confirm_password"] = "plum orbit canvas thunder 42"
    form.submit(status=303)
    # A browser new to the account is still refused, whatever the password.
    sign_in(new_client(wsgi_app, ip="203.0.113.99"), ALICE, STRONG_PASSWORD, status=429)


def test_a_device_cookie_of_another_account_gives_no_allowance(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    create_account(wsgi_app, "mallory@example.com", STRONG_PASSWORD)
    attacker = new_client(wsgi_app, ip="198.51.100.66")
    sign_in(attacker, "mallory@example.com", STRONG_PASSWORD)
    sign_out(attacker)
    statuses = [sign_in(attacker, ALICE, "a guess", status="*").status_int for _ in range(12)]
    assert statuses == [400] * 10 + [429] * 2


def test_known_browsers_have_an_allowance_of_their_own(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    owner = new_client(wsgi_app)
    sign_in(owner, ALICE, STRONG_PASSWORD)
    sign_out(owner)
    statuses = [sign_in(owner, ALICE, "mistyped", status="*").status_int for _ in range(11)]
    assert statuses == [400] * 10 + [429]


def test_the_device_cookie_is_long_lived_http_only_and_holds_only_a_random_token(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    response = sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD)
    [device] = [c for c in response.headers.getall("Set-Cookie") if c.startswith("device=")]
    attributes = [part.strip().lower() for part in device.split(";")]
    assert "httponly" in attributes and "samesite=lax" in attributes
    assert "max-age=31536000" in attributes
    token = device.split(";")[0].removeprefix("device=")
    assert len(token) >= 43 and ALICE not in token


# Item 29: IPv6 clients by their /64


def test_rotating_addresses_inside_one_ipv6_64_counts_as_one_client(wsgi_app):
    statuses = []
    for n in range(52):
        client = new_client(wsgi_app, ip=f"2001:db8:5:7::{n + 1:x}")
        statuses.append(sign_in(client, f"user{n}@example.com", "guess", status="*").status_int)
    assert statuses == [400] * 50 + [429] * 2
    # Another /64 is another client.
    sign_in(new_client(wsgi_app, ip="2001:db8:5:8::1"), "x@example.com", "guess", status=400)


def test_an_ipv4_mapped_address_counts_as_the_ipv4_address(wsgi_app):
    statuses = []
    for n in range(52):
        ip = "198.51.100.9" if n % 2 else "::ffff:198.51.100.9"
        client = new_client(wsgi_app, ip=ip)
        statuses.append(sign_in(client, f"user{n}@example.com", "guess", status="*").status_int)
    assert statuses == [400] * 50 + [429] * 2


# Item 30: successful sign-ins are limited too, and sessions do not pile up


def test_right_passwords_count_against_the_per_ip_limit(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    statuses = [
        sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD, status="*").status_int
        for _ in range(52)
    ]
    assert statuses == [303] * 50 + [429] * 2


def test_an_account_keeps_at_most_the_configured_number_of_sessions(make_app, app_settings):
    wsgi_app = make_app({**app_settings, **UNLIMITED_RATES, "sessions.max_per_account": "5"})
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    clients = [new_client(wsgi_app) for _ in range(8)]
    for client in clients:
        sign_in(client, ALICE, STRONG_PASSWORD)
    with db(wsgi_app) as session:
        live = session.scalar(
            select(func.count()).select_from(LoginSession).where(LoginSession.revoked_at.is_(None))
        )
    assert live == 5
    # The oldest were ended; the newest still work.
    assert [c.get("/account", status="*").status_int for c in clients] == [303] * 3 + [200] * 5


# Item 36: repeated events are recorded once per window


def test_a_flood_of_blocked_sign_ins_is_one_event_with_a_count(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    for n in range(40):
        sign_in(new_client(wsgi_app, ip=f"198.51.100.{n + 1}"), ALICE, "guess", status="*")
    [blocked] = recorded_events(wsgi_app, events.SIGN_IN_BLOCKED)
    assert blocked.details["repeats"] == 29
    assert len(recorded_events(wsgi_app, events.SIGN_IN_FAILED)) == 10


def test_a_flood_of_bad_codes_is_one_event_per_window(make_app, app_settings, clock):
    wsgi_app = make_app({**app_settings, **UNLIMITED_RATES})
    guesser = new_client(wsgi_app)
    for _ in range(30):
        guesser.get(f"/account/reset_password/{secrets.token_urlsafe(32)}", status=400)
    assert len(recorded_events(wsgi_app, events.CODE_UNKNOWN)) == 1
    clock.advance(minutes=6)
    guesser.get(f"/account/reset_password/{secrets.token_urlsafe(32)}", status=400)
    assert len(recorded_events(wsgi_app, events.CODE_UNKNOWN)) == 2


# Item 11's margin: the email is rendered by the sender, not in the request


def test_asking_for_a_reset_renders_no_email_in_the_request(wsgi_app, smtp_server, monkeypatch):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    rendered: list[str] = []
    real_render = MailTemplates.render

    def counting_render(self, template, params):
        rendered.append(template)
        return real_render(self, template, params)

    monkeypatch.setattr(MailTemplates, "render", counting_render)
    forgot_password(new_client(wsgi_app), ALICE)
    assert rendered == []
    deliver_mail(wsgi_app)
    assert rendered == ["password_reset"]
    assert smtp_server.mailbox.to(ALICE)[0].link_code


# Item 37: bodies, static 404s, redirects


def test_both_configurations_refuse_large_bodies_in_the_server_as_in_the_app():
    for name in ("development.ini", "production.ini"):
        config = configparser.ConfigParser(interpolation=None)
        config.read(ROOT / name)
        app_settings = dict(config["app:main"])
        app_settings.update({"app.secret": "x" * 20, "app.base_url": BASE_URL})
        limit = AppSettings.from_settings(app_settings).max_body_bytes
        assert int(config["server:main"]["max_request_body_size"]) == limit, name


def test_a_404_under_static_is_not_cached(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    missing = client.get("/static/no-such-file.css", status=404)
    # The 404 page is the signed-in page: it must not be kept by a cache.
    assert "Sign out" in missing.text
    assert missing.headers.getall("Cache-Control") == ["no-store"]


@pytest.mark.parametrize("host", ["evil.test", "accounts.example.test.evil.test:8080"])
def test_redirects_name_the_configured_address_whatever_the_host_header(wsgi_app, host):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    client.extra_environ["HTTP_HOST"] = host
    redirects = [
        client.get("/account", status=303),
        forgot_password(client, "nobody@example.com"),
        sign_in(client, ALICE, STRONG_PASSWORD),
    ]
    for response in redirects:
        assert urlsplit(response.location).netloc == urlsplit(BASE_URL).netloc


# Item 38: cookies and the pending code


def test_production_cookies_use_the_host_prefix(make_app, app_settings):
    wsgi_app = make_app({**app_settings, "app.secure_cookies": "true"})
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    client.extra_environ["wsgi.url_scheme"] = "https"
    response = sign_in(client, ALICE, STRONG_PASSWORD)
    cookies = response.headers.getall("Set-Cookie")
    names = {cookie.split("=", 1)[0] for cookie in cookies}
    assert {"__Host-auth", "__Host-device", "__Host-session"} <= names, names
    for cookie in cookies:
        attributes = [part.strip().lower() for part in cookie.split(";")]
        assert "secure" in attributes and "path=/" in attributes
        assert not any(a.startswith("domain=") for a in attributes)
    assert client.get("/account").status_int == 200


def test_the_pending_code_cannot_be_read_from_the_session_cookie(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    code = smtp_server.mailbox.to(ALICE)[0].link_code
    opened = open_link(client, code)
    [cookie] = [c for c in opened.headers.getall("Set-Cookie") if c.startswith("session=")]
    value = cookie.split(";")[0].removeprefix("session=").strip('"')
    # Pyramid's signed session: base64 of a signature followed by the JSON payload.
    decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    payload = json.loads(decoded[64:])
    assert code not in json.dumps(payload)
    assert code not in decoded.decode("latin-1")
    # The form behind the link still works.
    client.get("/account/reset_password", status=200)


def test_the_content_security_policy_forbids_plugins_and_base_tags():
    directives = {
        part.strip().split()[0]: part.strip() for part in CONTENT_SECURITY_POLICY.split(";")
    }
    assert directives["object-src"] == "object-src 'none'"
    assert directives["base-uri"] == "base-uri 'none'"


# Item 28: the strength estimate comes after the cheap checks and the limits


WORST_PASSWORD = ("!$%(+0123456789<@[{|" * 10)[:128]


def test_the_strength_estimate_runs_only_after_the_current_password_is_right(wsgi_app, monkeypatch):
    from app.services.passwords import policy as password_policy

    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    estimates: list[str] = []
    real = password_policy.estimate_strength
    monkeypatch.setattr(
        password_policy,
        "estimate_strength",
        lambda password, inputs: estimates.append(password) or real(password, inputs),
    )
    for _ in range(12):
        form = form_by_action(client.get("/account/change_password"), "/account/change_password")
        form["current_password"] = "not the current password"
        form["password"] = form["confirm_password"] = WORST_PASSWORD
        form.submit(status="*")
    assert estimates == []  # neither the wrong guesses nor the 429s estimated anything


def test_registrations_over_the_limit_estimate_nothing(wsgi_app, monkeypatch):
    from app.services.passwords import policy as password_policy

    estimates: list[str] = []
    real = password_policy.estimate_strength
    monkeypatch.setattr(
        password_policy,
        "estimate_strength",
        lambda password, inputs: estimates.append(password) or real(password, inputs),
    )
    statuses = [
        register(new_client(wsgi_app), f"new{n}@example.com", WORST_PASSWORD, status="*").status_int
        for n in range(12)
    ]
    assert statuses[-2:] == [429, 429]
    assert len(estimates) == 10
