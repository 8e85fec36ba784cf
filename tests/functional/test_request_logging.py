"""Request ids and the access log: one line per request, naming the request, never a
secret."""

from __future__ import annotations

import json
import logging
import re

import pytest
from sqlalchemy import event

from app.controllers.home import HomeController
from app.logs import JSONFormatter
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, sign_in
from tests.support import form_by_action

ALICE = "alice@example.com"
PROXY = "127.0.0.1"


@pytest.fixture
def proxied_app(make_app, app_settings):
    return make_app({**app_settings, "app.trusted_proxies": PROXY})


def _access_lines(caplog) -> list[dict]:
    return [r.fields for r in caplog.records if r.name == "app.access"]


def test_every_response_carries_a_new_random_request_id(client):
    ids = [client.get("/account/signin").headers["X-Request-ID"] for _ in range(3)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)
    assert len(set(ids)) == 3


def test_the_request_id_of_a_trusted_proxy_is_kept(proxied_app):
    client = new_client(proxied_app, ip=PROXY)
    response = client.get("/account/signin", headers={"X-Request-ID": "nginx-7f3a.42_b"})
    assert response.headers["X-Request-ID"] == "nginx-7f3a.42_b"


@pytest.mark.parametrize(
    "sent", ["two words", "a" * 65, "abc\r\nInjected: yes", "<script>", "abc/def", "café"]
)
def test_a_request_id_that_is_long_or_not_plain_is_replaced(proxied_app, sent):
    client = new_client(proxied_app, ip=PROXY)
    response = client.get(
        "/account/signin", headers={"X-Request-ID": sent.encode().decode("latin-1")}
    )
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_the_request_id_of_anyone_but_a_trusted_proxy_is_ignored(proxied_app):
    client = new_client(proxied_app, ip="203.0.113.7")
    response = client.get("/account/signin", headers={"X-Request-ID": "chosen-by-the-client"})
    assert response.headers["X-Request-ID"] != "chosen-by-the-client"


def test_every_log_line_of_a_request_carries_its_id(wsgi_app, caplog):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    form = form_by_action(new_client(wsgi_app).get("/account/signin"), "/account/signin")
    form["email"], form["password"] = ALICE, STRONG_PASSWORD
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
        try:
            response = form.submit(status=303)
        finally:
            logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
        logging.getLogger("app.test").info("outside a request")
    *lines, outside = [r for r in caplog.records if not r.name.startswith("mail.log")]
    assert {r.name for r in lines} >= {"app.access", "sqlalchemy.engine.Engine"}
    assert {r.request_id for r in lines} == {response.headers["X-Request-ID"]}
    assert outside.request_id == "-"


def test_one_access_line_per_request_with_what_an_operator_needs(wsgi_app, caplog):
    account_id = create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    with caplog.at_level(logging.INFO, logger="app.access"):
        page = client.get("/account/signin")
        form = form_by_action(page, "/account/signin")
        form["email"], form["password"] = ALICE, STRONG_PASSWORD
        signed_in = form.submit(status=303)
        account = client.get("/account")
    first, second, third = _access_lines(caplog)
    assert first == {
        "method": "GET",
        "route": "account.signin",
        "path": "/account/signin",
        "status": 200,
        "duration_ms": first["duration_ms"],
        "client_ip": "203.0.113.7",
        "account_id": None,
    }
    assert first["duration_ms"] > 0
    # The POST that signed in already names the account; so does the next page.
    assert (second["method"], second["status"], second["account_id"]) == ("POST", 303, account_id)
    assert (third["route"], third["account_id"]) == ("account", account_id)
    ids = [r.request_id for r in caplog.records if r.name == "app.access"]
    assert ids == [r.headers["X-Request-ID"] for r in (page, signed_in, account)]


def test_the_access_line_is_one_json_object_in_production_format(client, caplog):
    with caplog.at_level(logging.INFO, logger="app.access"):
        response = client.get("/account/signin")
    [record] = [r for r in caplog.records if r.name == "app.access"]
    entry = json.loads(JSONFormatter().format(record))
    assert entry["request_id"] == response.headers["X-Request-ID"]
    assert entry["route"] == "account.signin" and entry["status"] == 200
    assert set(entry) >= {"time", "method", "path", "duration_ms", "client_ip", "account_id"}


def test_paths_are_logged_without_codes_or_query_strings(client, caplog):
    code = "Zq3xY7-secretcode_abcdefghijklmnopqrstuvwxy"
    with caplog.at_level(logging.INFO, logger="app.access"):
        client.get(f"/account/reset_password/{code}", status=400)
        client.get(f"/account/verify_email/{code}", status="*")
        client.get("/account/signin?came_from=/account%3Fcode%3D" + code)
        client.get("/admin/accounts/12", status=303)
        client.get(f"/account/reset_password/{code}/", status=404)
        client.get(f"/no/such/{code}/page", status=404)
    paths = [line["path"] for line in _access_lines(caplog)]
    assert paths == [
        "/account/reset_password/{code}",
        "/account/verify_email/{code}",
        "/account/signin",
        "/admin/accounts/12",
        "/account/reset_password/{redacted}/",
        "/no/such/{redacted}/page",
    ]
    assert not [r for r in caplog.records if code in r.getMessage() or code in str(r.__dict__)]


def test_health_checks_are_not_logged_but_everything_else_is(wsgi_app, caplog):
    client = new_client(wsgi_app, ip="127.0.0.1")
    with caplog.at_level(logging.INFO, logger="app.access"):
        for _ in range(3):
            client.get("/healthz")
            client.get("/readyz")
        client.get("/metrics")
        client.get("/static/nothing-here.css", status=404)
    assert [line["route"] for line in _access_lines(caplog)] == ["metrics", "static"]


def test_a_request_that_fails_is_logged_with_its_500(wsgi_app, caplog, monkeypatch):
    def broken(self):
        raise RuntimeError("something broke")

    monkeypatch.setattr(HomeController, "index", broken)
    with caplog.at_level(logging.INFO, logger="app"):
        response = new_client(wsgi_app).get("/", status=500)
    [line] = _access_lines(caplog)
    assert (line["route"], line["status"]) == ("home", 500)
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.request_id == response.headers["X-Request-ID"]


def test_the_log_line_costs_no_query(wsgi_app, caplog):
    """The account id comes from the session the request looked up, if it did."""
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    sign_in(client, ALICE, STRONG_PASSWORD)
    statements: list[str] = []
    engine = wsgi_app.registry["db_engine"]

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        counts = []
        for level in (logging.WARNING, logging.INFO):
            with caplog.at_level(level, logger="app.access"):
                statements.clear()
                for url in ("/account", "/account/forgot_password", "/"):
                    client.get(url)
                counts.append(len(statements))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert counts[0] == counts[1] > 0
    assert len(_access_lines(caplog)) == 3
