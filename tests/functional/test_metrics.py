"""/metrics: who may read it, and what moves the counters (in this process; see
test_metrics_processes.py for several processes)."""

from __future__ import annotations

import pytest

from app.models import OutgoingEmail
from app.services.notices.outbox import Outbox, outbox_cipher
from tests.conftest import SECRET, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    choose_password,
    create_account,
    db,
    deliver_mail,
    forgot_password,
    open_link,
    sign_in,
)
from tests.metrics_reading import read_metrics

ALICE = "alice@example.com"
OPERATOR = "127.0.0.1"


@pytest.fixture
def operator(wsgi_app):
    """A client on the machine itself, as Prometheus would scrape."""
    return new_client(wsgi_app, ip=OPERATOR)


def test_metrics_answer_the_loopback_address_only(wsgi_app, operator):
    response = operator.get("/metrics")
    assert response.content_type == "text/plain"
    assert "accounts_request_duration_seconds" in response.text
    assert "Set-Cookie" not in response.headers
    assert new_client(wsgi_app, ip="203.0.113.7").get("/metrics", status=404)
    assert new_client(wsgi_app, ip="::1").get("/metrics", status=200)
    assert new_client(wsgi_app, ip="::ffff:127.0.0.1").get("/metrics", status=200)
    assert new_client(wsgi_app, ip="::ffff:203.0.113.7").get("/metrics", status=404)


def test_metrics_judge_a_visitor_behind_the_proxy_by_the_visitor(make_app, app_settings):
    wsgi_app = make_app({**app_settings, "app.trusted_proxies": "127.0.0.1"})
    proxied = new_client(wsgi_app, ip="127.0.0.1")
    proxied.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"}, status=404)
    # A client the proxy names in a form this app cannot read is still not the proxy.
    proxied.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4:5555"}, status=404)
    proxied.get("/metrics", status=200)


def test_metrics_answer_no_client_whose_address_cannot_be_read(wsgi_app):
    new_client(wsgi_app, ip="not an address").get("/metrics", status=404)


def test_metrics_answer_the_addresses_of_the_setting(make_app, app_settings):
    wsgi_app = make_app({**app_settings, "metrics.allowed_addresses": "10.0.0.0/8, 203.0.113.7"})
    new_client(wsgi_app, ip="203.0.113.7").get("/metrics", status=200)
    new_client(wsgi_app, ip="10.1.2.3").get("/metrics", status=200)
    new_client(wsgi_app, ip="127.0.0.1").get("/metrics", status=404)


def test_an_address_setting_that_is_no_address_stops_start_up(make_app, app_settings):
    with pytest.raises(SystemExit, match="metrics.allowed_addresses"):
        make_app({**app_settings, "metrics.allowed_addresses": "prometheus.internal"})


def test_sign_ins_are_counted_by_result(make_app, app_settings):
    wsgi_app = make_app({**app_settings, "ratelimit.signin_per_account": "2/minute"})
    operator = new_client(wsgi_app, ip=OPERATOR)
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    before = read_metrics(operator)
    sign_in(new_client(wsgi_app), ALICE, STRONG_PASSWORD)
    sign_in(new_client(wsgi_app), ALICE, "not the password at all", status=400)
    sign_in(new_client(wsgi_app), "nobody@example.com", "not the password at all", status=400)
    sign_in(new_client(wsgi_app), ALICE, "not the password either", status=400)
    sign_in(new_client(wsgi_app), ALICE, "one guess too many", status=429)
    assert before.changes(read_metrics(operator)) == {
        "accounts_sign_ins_total{reason=,result=success}": 1,
        "accounts_sign_ins_total{reason=wrong_password,result=failed}": 2,
        "accounts_sign_ins_total{reason=no_account,result=failed}": 1,
        "accounts_sign_ins_total{reason=,result=rate_limited}": 1,
        "accounts_rate_limited_total{limit=signin_per_account}": 1,
    }


def test_resets_and_refused_codes_are_counted(wsgi_app, operator, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    before = read_metrics(operator)
    client = new_client(wsgi_app)
    forgot_password(client, ALICE)
    forgot_password(client, "nobody@example.com")
    deliver_mail(wsgi_app)
    code = smtp_server.mailbox.to(ALICE)[0].link_code
    open_link(client, code)
    choose_password(client, "a brand new password for alice")
    open_link(client, code, status=400)
    open_link(client, "no-such-code-at-all", status=400)
    deliver_mail(wsgi_app)
    assert before.changes(read_metrics(operator)) == {
        "accounts_password_resets_requested_total{}": 2,
        "accounts_password_resets_done_total{}": 1,
        "accounts_codes_refused_total{reason=used}": 1,
        "accounts_codes_refused_total{reason=unknown}": 1,
        "accounts_emails_queued_total{template=password_reset}": 1,
        "accounts_emails_sent_total{template=password_reset}": 1,
        "accounts_emails_queued_total{template=password_changed}": 1,
        "accounts_emails_sent_total{template=password_changed}": 1,
    }


def test_emails_put_off_and_given_up_are_counted(wsgi_app, operator, smtp_server, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    before = read_metrics(operator)
    forgot_password(new_client(wsgi_app), ALICE)
    smtp_server.stop()
    deliver_mail(wsgi_app)
    smtp_server.start()
    with db(wsgi_app) as session, session.begin():
        Outbox(session, outbox_cipher(SECRET), clock).queue(ALICE, "no_such_email", {})
    clock.advance(seconds=5)
    deliver_mail(wsgi_app)
    assert before.changes(read_metrics(operator)) == {
        "accounts_password_resets_requested_total{}": 1,
        "accounts_emails_queued_total{template=password_reset}": 1,
        "accounts_emails_deferred_total{template=password_reset}": 1,
        "accounts_emails_sent_total{template=password_reset}": 1,
        "accounts_emails_queued_total{template=no_such_email}": 1,
        "accounts_emails_failed_total{template=no_such_email}": 1,
    }


def test_the_outbox_gauges_are_read_when_asked(wsgi_app, operator, clock):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    assert read_metrics(operator).get("accounts_outbox_backlog") == 0
    forgot_password(new_client(wsgi_app), ALICE)
    forgot_password(new_client(wsgi_app), "bob@example.com")  # no account: no email
    clock.advance(minutes=10)
    samples = read_metrics(operator)
    assert samples.get("accounts_outbox_backlog") == 1
    assert samples.get("accounts_outbox_oldest_age_seconds") == 600
    deliver_mail(wsgi_app)
    samples = read_metrics(operator)
    assert samples.get("accounts_outbox_backlog") == 0
    assert samples.get("accounts_outbox_oldest_age_seconds") == 0
    with db(wsgi_app) as session:
        assert session.query(OutgoingEmail).count() == 1


def test_requests_are_timed_and_counted_by_route_and_status(wsgi_app, operator):
    before = read_metrics(operator)
    client = new_client(wsgi_app)
    client.get("/account/signin")
    client.get("/account/reset_password/some-code-that-is-not-logged", status=400)
    client.get("/nowhere", status=404)
    after = read_metrics(operator)
    for route, status in (
        ("account.signin", "200"),
        ("account.reset_password_link", "400"),
        ("unmatched", "404"),
    ):
        name = "accounts_request_duration_seconds_count"
        assert after.get(name, route=route) - before.get(name, route=route) == 1, route
        responses = "accounts_http_responses_total"
        moved = after.get(responses, route=route, status=status)
        assert moved - before.get(responses, route=route, status=status) == 1, route
    assert "some-code" not in operator.get("/metrics").text
