"""Races across two app processes on one database (SQLite and PostgreSQL): a code or a
refresh token presented to both at once has exactly one winner, and two consents given
at once leave one (docs/security.md 61, 63)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from app import main
from app.models import OidcConsent, OidcRefreshToken
from app.services.oidc.grants import Subject
from tests.conftest import SECRET, STRONG_PASSWORD
from tests.functional.flows import create_account, services
from tests.functional.oidc_flows import Pkce, RegisteredClient, register_client
from tests.support import UNLIMITED_RATES, free_port
from tests.support.processes import serve, stop, wait_for_http, write_config

ALICE = "alice@example.com"
ROUNDS = 5


@pytest.fixture
def two_processes(db_url, tmp_path) -> Iterator[tuple[object, list[str]]]:
    settings = {
        "sqlalchemy.url": db_url,
        "app.secret": SECRET,
        "app.base_url": "http://127.0.0.1",
        "mail.delivery": "manual",
        **UNLIMITED_RATES,
    }
    config = write_config(tmp_path, settings)
    helper = main({}, **settings)
    ports = [free_port(), free_port()]
    servers = [serve(config, port) for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base, server in zip(bases, servers, strict=True):
            wait_for_http(f"{base}/healthz", server)
        yield helper, bases
    finally:
        for server in servers:
            stop(server)
        helper.registry["db_engine"].dispose()
    for server in servers:
        output = server.stdout.read()
        assert "Traceback" not in output, output


def subject_of(helper, session) -> Subject:
    found = services(helper, session)
    account = found.accounts.find_account_by_email(ALICE)
    _token, login_session = found.login_sessions.start(account, "127.0.0.1", "test")
    subject = found.oidc_grants.live_subject(login_session)
    assert subject is not None
    return subject


def at_once(bases: list[str], client: RegisteredClient, bodies: list[dict[str, str]]) -> list[int]:
    """POST each body to the token endpoint of its own process, all at the same moment."""
    credentials = base64.b64encode(f"{client.client_id}:{client.secret}".encode()).decode()
    start = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def call(base: str, body: dict[str, str]) -> None:
        with httpx.Client(timeout=30) as http:
            start.wait()
            response = http.post(
                f"{base}/oidc/token", data=body, headers={"Authorization": f"Basic {credentials}"}
            )
            statuses.append(response.status_code)

    threads = [
        threading.Thread(target=call, args=(bases[i % len(bases)], body))
        for i, body in enumerate(bodies)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return sorted(statuses)


def test_a_code_raced_at_two_processes_is_exchanged_once(two_processes):
    helper, bases = two_processes
    create_account(helper, ALICE, STRONG_PASSWORD)
    shop = register_client(helper)
    for _ in range(ROUNDS):
        pkce = Pkce.new()
        with helper.registry["dbsession_factory"]() as session, session.begin():
            found = services(helper, session)
            client = found.oidc_clients.get(shop.client_id)
            code = found.oidc_grants.issue_code(
                client,
                subject_of(helper, session),
                shop.redirect_uri,
                "openid",
                None,
                pkce.challenge,
            )
        body = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": shop.redirect_uri,
            "code_verifier": pkce.verifier,
        }
        assert at_once(bases, shop, [body, body]) == [200, 400]


def test_a_refresh_token_raced_at_two_processes_is_used_once(two_processes):
    helper, bases = two_processes
    create_account(helper, ALICE, STRONG_PASSWORD)
    shop = register_client(helper)
    for _ in range(ROUNDS):
        with helper.registry["dbsession_factory"]() as session, session.begin():
            found = services(helper, session)
            client = found.oidc_clients.get(shop.client_id)
            token = found.oidc_grants.issue_refresh_token(
                client, subject_of(helper, session), "openid offline_access"
            )
        body = {"grant_type": "refresh_token", "refresh_token": token}
        assert at_once(bases, shop, [body, body]) == [200, 400]
    with helper.registry["dbsession_factory"]() as session:
        used = session.scalar(
            select(func.count())
            .select_from(OidcRefreshToken)
            .where(OidcRefreshToken.used_at.is_not(None))
        )
    assert used == ROUNDS


def test_two_consents_given_at_once_leave_one(db_url):
    helper = main(
        {},
        **{
            "sqlalchemy.url": db_url,
            "app.secret": SECRET,
            "app.base_url": "http://127.0.0.1",
            "mail.delivery": "manual",
        },
    )
    try:
        account_id = create_account(helper, ALICE, STRONG_PASSWORD)
        forum = register_client(helper, first_party=False)
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def allow(scopes: frozenset[str]) -> None:
            try:
                with helper.registry["dbsession_factory"]() as session, session.begin():
                    found = services(helper, session)
                    client = found.oidc_clients.get(forum.client_id)
                    start.wait()
                    found.oidc_consents.give_consent(account_id, client, scopes)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=allow, args=(frozenset({"openid", "email"}),)),
            threading.Thread(target=allow, args=(frozenset({"openid"}),)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        with helper.registry["dbsession_factory"]() as session:
            rows = list(session.scalars(select(OidcConsent)))
        assert len(rows) == 1
    finally:
        helper.registry["db_engine"].dispose()
