"""Every token belongs to a login session: whatever ends the session ends its tokens and
tells each application that holds some, through the durable back-channel queue
(docs/security.md 63)."""

from __future__ import annotations

import http.server
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from joserfc import jwt
from sqlalchemy import event, select, update

from app.models import OidcLogoutDelivery
from app.operations import backchannel_logouts
from app.operations.backchannel_logouts import BACKCHANNEL_EVENT, DueWork, LogoutSender
from tests.conftest import BASE_URL, STRONG_PASSWORD, new_client
from tests.functional.flows import (
    change_password,
    create_account,
    db,
    services,
    sign_in,
    sign_out,
)
from tests.functional.oidc_flows import (
    BACKCHANNEL_URI,
    Pkce,
    decode,
    exchange,
    jwks,
    refresh,
    register_client,
    sign_in_and_authorize,
)
from tests.support import form_by_action

ALICE = "alice@example.com"
NEW_PASSWORD = "a different correct horse battery 42"
SENDER_LOG = "app.operations.backchannel_logouts"


def signed_in_shop(wsgi_app, client, **client_options):
    """Alice signed in at the shop through the provider: the shop's client and tokens."""
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    shop = register_client(wsgi_app, **client_options)
    pkce = Pkce.new()
    back = sign_in_and_authorize(client, shop, ALICE, STRONG_PASSWORD, pkce)
    tokens = exchange(new_client(wsgi_app), shop, back["code"], pkce.verifier).json
    return shop, tokens


def recording_sender(wsgi_app, answers=None):
    """A LogoutSender whose POSTs are recorded (and answered with `answers`, in turn)."""
    posted: list[tuple[str, dict[str, str]]] = []
    statuses = list(answers or [])

    def post(uri, form):
        posted.append((uri, form))
        return statuses.pop(0) if statuses else 200

    registry = wsgi_app.registry
    return LogoutSender(registry["services"], registry["dbsession_factory"], post), posted


def deliveries(wsgi_app) -> list[OidcLogoutDelivery]:
    with db(wsgi_app) as session:
        return list(session.scalars(select(OidcLogoutDelivery)))


def test_signing_out_here_ends_the_refresh_token_and_tells_the_shop(wsgi_app, client, clock):
    shop, tokens = signed_in_shop(wsgi_app, client)
    id_token = decode(client, tokens["id_token"])
    sign_out(client)
    refused = refresh(new_client(wsgi_app), shop, tokens["refresh_token"], status=400).json
    assert refused["error"] == "invalid_grant"

    sender, posted = recording_sender(wsgi_app)
    assert sender.deliver_due() == 1
    ((uri, form),) = posted
    assert uri == BACKCHANNEL_URI
    decoded = jwt.decode(form["logout_token"], jwks(client), algorithms=["RS256"])
    assert decoded.header["typ"] == "logout+jwt"
    # Back-Channel Logout 1.0, 2.4: the sub and sid of the ID token the shop holds, a
    # jti the shop can tell a replay by, no nonce, and a short life.
    claims = dict(decoded.claims)
    jti = claims.pop("jti")
    now = int(clock.now().timestamp())
    assert claims == {
        "iss": BASE_URL,
        "aud": shop.client_id,
        "iat": now,
        "exp": now + 120,
        "sub": id_token["sub"],
        "sid": id_token["sid"],
        "events": {BACKCHANNEL_EVENT: {}},
    }
    assert isinstance(jti, str) and jti
    # Told once: nothing more is due.
    assert sender.deliver_due() == 0


@pytest.mark.parametrize("how", ["password_change", "every_session_revoked"])
def test_other_ways_a_session_ends_end_its_tokens_too(wsgi_app, client, how):
    shop, tokens = signed_in_shop(wsgi_app, client)
    if how == "password_change":
        # Changing the password ends the other sessions; the shop's came from this one,
        # which the change keeps: sign in elsewhere and change it there.
        other = new_client(wsgi_app)
        sign_in(other, ALICE, STRONG_PASSWORD)
        change_password(other, STRONG_PASSWORD, NEW_PASSWORD)
    else:
        # What disabling the account, "this wasn't me" and a reset all do.
        with db(wsgi_app) as session, session.begin():
            found = services(wsgi_app, session)
            account = found.accounts.find_account_by_email(ALICE)
            found.login_sessions.revoke_all(account.id)
    refresh(new_client(wsgi_app), shop, tokens["refresh_token"], status=400)
    assert len(deliveries(wsgi_app)) == 1


def test_a_client_that_is_down_is_told_later_and_only_once(wsgi_app, client, clock):
    signed_in_shop(wsgi_app, client)
    sign_out(client)
    sender, posted = recording_sender(wsgi_app, answers=[503, 500])
    assert sender.deliver_due() == 0
    (waiting,) = deliveries(wsgi_app)
    assert waiting.delivered_at is None and waiting.last_error == "HTTP 503"
    # Not retried before its time.
    assert sender.deliver_due() == 0 and len(posted) == 1
    clock.advance(seconds=31)
    assert sender.deliver_due() == 0
    clock.advance(minutes=2)
    assert sender.deliver_due() == 1
    assert len(posted) == 3
    (done,) = deliveries(wsgi_app)
    assert done.delivered_at is not None and done.attempts == 3
    assert done.last_error is None


def test_each_failure_is_logged_and_retried_after_twice_the_last_wait_up_to_an_hour(
    wsgi_app, client, clock, caplog
):
    """Any answer but a 2xx is a failure, a 300 too (the URI registered is the one told):
    the next try comes 30 seconds later, then twice as long each time, never more than
    an hour; the operator is told of each."""
    shop, _tokens = signed_in_shop(wsgi_app, client)
    sign_out(client)
    sender, posted = recording_sender(wsgi_app, answers=[300] + [503] * 8)
    waits = []
    with caplog.at_level(logging.WARNING, logger=SENDER_LOG):
        for _ in range(9):
            assert sender.deliver_due() == 0
            (waiting,) = deliveries(wsgi_app)
            assert waiting.delivered_at is None and waiting.failed_at is None
            waits.append(waiting.next_attempt_at - clock.now())
            clock.advance(seconds=waits[-1].total_seconds())
    assert len(posted) == 9
    assert [wait.total_seconds() for wait in waits] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]
    shown = ["0:00:30", "0:01:00", "0:02:00", "0:04:00", "0:08:00", "0:16:00", "0:32:00"]
    shown += ["1:00:00", "1:00:00"]
    errors = ["HTTP 300"] + ["HTTP 503"] * 8
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            f"Back-channel logout to client {shop.client_id} failed (attempt {attempt}), "
            f"retrying in {wait}: {error}",
        )
        for attempt, (wait, error) in enumerate(zip(shown, errors, strict=True), start=1)
    ]


def test_a_logout_still_failing_48_hours_after_the_session_ended_is_given_up_on(
    wsgi_app, client, clock, caplog
):
    shop, _tokens = signed_in_shop(wsgi_app, client)
    sign_out(client)
    sender, posted = recording_sender(wsgi_app, answers=[503, 503])
    clock.advance(hours=48, seconds=-30)
    with caplog.at_level(logging.WARNING, logger=SENDER_LOG):
        # Thirty seconds short of the 48 hours: tried again thirty seconds later.
        assert sender.deliver_due() == 0
        (waiting,) = deliveries(wsgi_app)
        assert waiting.failed_at is None
        clock.advance(seconds=30)
        # The 48 hours are up.
        assert sender.deliver_due() == 0
    (given_up,) = deliveries(wsgi_app)
    assert given_up.failed_at == clock.now() and given_up.delivered_at is None
    assert given_up.last_error == "HTTP 503" and given_up.attempts == 2
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            f"Back-channel logout to client {shop.client_id} failed (attempt 1), "
            "retrying in 0:00:30: HTTP 503",
        ),
        (
            "ERROR",
            f"Giving up on a back-channel logout to client {shop.client_id} after 2 "
            "attempts: HTTP 503",
        ),
    ]
    # Never tried again.
    clock.advance(hours=2)
    assert sender.deliver_due() == 0 and len(posted) == 2


def test_an_application_removed_while_its_logout_is_posted_took_nothing(wsgi_app, client):
    """The count of logouts delivered tells the background sender whether to go on at
    once: a delivery that went with its application is not one."""
    shop, _tokens = signed_in_shop(wsgi_app, client)
    sign_out(client)

    def post(uri, form):
        with db(wsgi_app) as session, session.begin():
            services(wsgi_app, session).oidc_clients.remove(shop.client_id)
        return 200

    registry = wsgi_app.registry
    sender = LogoutSender(registry["services"], registry["dbsession_factory"], post)
    assert sender.deliver_due() == 0
    assert deliveries(wsgi_app) == []


def test_a_client_without_a_back_channel_uri_is_owed_nothing(wsgi_app, client):
    signed_in_shop(wsgi_app, client, backchannel=None)
    sign_out(client)
    assert deliveries(wsgi_app) == []


class Endpoint:
    """A real HTTP server on loopback that records each request it is sent (its target,
    headers and form) and answers it as `answers` says for its path (200 by default), or,
    when `silent`, says nothing for two seconds and hangs up."""

    def __init__(self, answers=None, silent=False):
        self.received: list[tuple[str, dict[str, str], dict[str, list[str]]]] = []
        self.released = threading.Event()
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                headers = {k.lower(): v for k, v in self.headers.items()}
                endpoint.received.append((self.path, headers, form))
                if silent:
                    endpoint.released.wait(2)
                    self.close_connection = True
                    return
                status, extra = (answers or {}).get(self.path, (200, {}))
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoints() -> Iterator[Callable[..., Endpoint]]:
    made: list[Endpoint] = []

    def make(**options) -> Endpoint:
        made.append(Endpoint(**options))
        return made[-1]

    yield make
    for endpoint in made:
        endpoint.close()


@pytest.fixture
def fresh_http_client(monkeypatch) -> Iterator[None]:
    """The sender's HTTP client made anew in the test (and closed after it): it is made
    once per process, so otherwise a test might only reuse an earlier test's."""
    monkeypatch.setattr(backchannel_logouts, "_client", None)
    yield
    if backchannel_logouts._client is not None:
        backchannel_logouts._client.close()


def test_the_logout_token_is_posted_over_http_as_a_form(
    wsgi_app, client, endpoints, fresh_http_client
):
    shop_server = endpoints()
    signed_in_shop(wsgi_app, client, backchannel=shop_server.url("/logout"))
    sign_out(client)
    assert wsgi_app.registry["logout_sender"].deliver_due() == 1
    ((target, headers, form),) = shop_server.received
    assert target == "/logout"
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert headers["cache-control"] == "no-store"
    (token,) = form["logout_token"]
    assert jwt.decode(token, jwks(client), algorithms=["RS256"]).claims["events"]


def test_a_redirect_from_the_application_is_not_followed(
    wsgi_app, client, endpoints, fresh_http_client
):
    """The URI registered is the one told: an answer sending the logout elsewhere is a
    failure, retried later, and nothing is posted to where it points."""
    shop_server = endpoints(answers={"/logout": (307, {"Location": "/elsewhere"})})
    signed_in_shop(wsgi_app, client, backchannel=shop_server.url("/logout"))
    sign_out(client)
    assert wsgi_app.registry["logout_sender"].deliver_due() == 0
    assert [target for target, _headers, _form in shop_server.received] == ["/logout"]
    (waiting,) = deliveries(wsgi_app)
    assert waiting.delivered_at is None and waiting.last_error == "HTTP 307"


def test_the_sender_takes_no_proxy_from_the_environment(
    wsgi_app, client, endpoints, fresh_http_client, monkeypatch
):
    shop_server, proxy = endpoints(), endpoints()
    for name in ("no_proxy", "NO_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url(""))
    monkeypatch.setenv("ALL_PROXY", proxy.url(""))
    signed_in_shop(wsgi_app, client, backchannel=shop_server.url("/logout"))
    sign_out(client)
    assert wsgi_app.registry["logout_sender"].deliver_due() == 1
    assert len(shop_server.received) == 1 and proxy.received == []


def test_an_application_that_does_not_answer_is_given_up_on_after_the_timeout(
    wsgi_app, client, endpoints, fresh_http_client, monkeypatch
):
    """The sender waits TIMEOUT_SECONDS for an answer (here shortened), then records the
    failure and moves on; it is retried later."""
    monkeypatch.setattr(backchannel_logouts, "TIMEOUT_SECONDS", 0.2)
    shop_server = endpoints(silent=True)
    signed_in_shop(wsgi_app, client, backchannel=shop_server.url("/logout"))
    sign_out(client)
    assert wsgi_app.registry["logout_sender"].deliver_due() == 0
    assert len(shop_server.received) == 1
    (waiting,) = deliveries(wsgi_app)
    assert waiting.delivered_at is None and waiting.failed_at is None
    assert waiting.last_error == "ReadTimeout"


def test_the_account_lists_its_applications_and_disconnects_one(wsgi_app, client, clock):
    shop, tokens = signed_in_shop(wsgi_app, client, name="The shop")
    page = client.get("/account/apps")
    table = page.html.find(id="connected-apps")
    assert table is not None and "The shop" in table.text
    form = form_by_action(page, f"/account/apps/{shop.client_id}/disconnect")
    form.submit(status=303)
    assert client.get("/account/apps").html.find(id="no-apps") is not None
    refresh(new_client(wsgi_app), shop, tokens["refresh_token"], status=400)


def test_another_account_cannot_disconnect_someone_elses_application(wsgi_app, client):
    shop, tokens = signed_in_shop(wsgi_app, client)
    create_account(wsgi_app, "bob@example.com", STRONG_PASSWORD)
    bob = new_client(wsgi_app)
    sign_in(bob, "bob@example.com", STRONG_PASSWORD)
    token = bob.get("/account").html.find("input", {"name": "csrf_token"})["value"]
    bob.post(f"/account/apps/{shop.client_id}/disconnect", {"csrf_token": token}, status=303)
    assert "was not connected" in bob.get("/account/apps").text
    refresh(new_client(wsgi_app), shop, tokens["refresh_token"], status=200)


def test_an_application_that_cannot_be_reached_is_retried_not_stuck(wsgi_app, client):
    """Any failure to reach the application (here an address no resolver takes) is
    recorded and retried later; nothing escapes to stop the sender."""
    signed_in_shop(wsgi_app, client, backchannel="https://" + "x" * 70 + ".example.test/logout")
    sign_out(client)
    assert wsgi_app.registry["logout_sender"].deliver_due() == 0
    (waiting,) = deliveries(wsgi_app)
    assert waiting.delivered_at is None and waiting.failed_at is None
    assert waiting.last_error and waiting.next_attempt_at > waiting.created_at


def test_an_applications_tokens_outlive_an_idle_browser_but_not_the_sessions_limit(
    wsgi_app, client, clock
):
    """Refreshing does not keep the browser's session from idling out, and the tokens do
    not die with it; they end at the sessions' absolute limit (30 days)."""
    shop, tokens = signed_in_shop(wsgi_app, client)
    rp = new_client(wsgi_app)
    clock.advance(hours=25)
    token = refresh(rp, shop, tokens["refresh_token"]).json["refresh_token"]
    assert client.get("/account").status_int == 303  # the browser's session idled out
    clock.advance(days=28)
    token = refresh(rp, shop, token).json["refresh_token"]
    clock.advance(days=2)
    assert refresh(rp, shop, token, status=400).json["error"] == "invalid_grant"


def shops_owed_logouts(wsgi_app, clock, *owed):
    """A client for each (name, seconds since due) of `owed`, registered with its own
    back-channel URI (none for a name starting "gone"), and one logout owed to each, in
    that order, as the end of a login session leaves them."""
    uris = {}
    shops = []
    for name, _overdue in owed:
        uris[name] = None if name.startswith("gone") else f"https://{name}.example.test/logout"
        shops.append(register_client(wsgi_app, backchannel=uris[name], name=name))
    with db(wsgi_app) as session, session.begin():
        for n, (shop, (_name, overdue)) in enumerate(zip(shops, owed, strict=True)):
            row = services(wsgi_app, session).oidc_clients.get(shop.client_id)
            session.add(
                OidcLogoutDelivery(
                    client_pk=row.id,
                    login_session_id=n + 1,
                    subject=f"subject-{n}",
                    sid=f"{n:032x}",
                    created_at=clock.now(),
                    next_attempt_at=clock.now() - timedelta(seconds=overdue),
                )
            )
    return uris


def test_the_logouts_owed_go_out_in_one_run_in_the_order_they_fell_due_and_once(wsgi_app, clock):
    uris = shops_owed_logouts(wsgi_app, clock, ("first", 0), ("longest", 10), ("last", 0))
    sender, posted = recording_sender(wsgi_app)
    assert sender.deliver_due() == 3
    assert [uri for uri, _form in posted] == [uris["longest"], uris["first"], uris["last"]]
    assert all(row.delivered_at == clock.now() for row in deliveries(wsgi_app))
    # Delivered is delivered: not sent again once the claims' lease is over.
    clock.advance(hours=1)
    assert sender.deliver_due() == 0 and len(posted) == 3


def test_a_sender_told_to_stop_finishes_the_logout_in_hand_and_takes_no_other(wsgi_app, clock):
    """As the background sender and the mail worker run it, with the outbox."""
    shops_owed_logouts(wsgi_app, clock, ("one", 0), ("two", 0))
    sender, posted = recording_sender(wsgi_app)
    due_work = DueWork(wsgi_app.registry["outbox_sender"], sender)
    assert due_work.deliver_due(should_stop=lambda: True) == 0
    assert posted == []
    assert due_work.deliver_due(should_stop=lambda: len(posted) == 1) == 1
    assert len(posted) == 1
    assert due_work.deliver_due() == 1
    assert len(posted) == 2


def test_one_run_of_the_background_sender_takes_at_most_a_hundred_logouts(wsgi_app, clock):
    shops_owed_logouts(wsgi_app, clock, *[(f"shop{n}", 0) for n in range(101)])
    sender, posted = recording_sender(wsgi_app)
    due_work = DueWork(sender)
    assert due_work.deliver_due() == 100
    assert due_work.deliver_due() == 1
    assert len({uri for uri, _form in posted}) == 101


class SenderDied(BaseException):
    """The process stops in the middle of a POST (killed, or the machine went down)."""


def test_a_logout_whose_sender_died_while_posting_it_is_due_again_after_the_lease(wsgi_app, clock):
    uris = shops_owed_logouts(wsgi_app, clock, ("shop", 0))

    def dies(uri, form):
        raise SenderDied

    registry = wsgi_app.registry
    with pytest.raises(SenderDied):
        LogoutSender(registry["services"], registry["dbsession_factory"], dies).deliver_due()
    other, posted = recording_sender(wsgi_app)
    # Claimed for a minute: no other sender posts it meanwhile.
    clock.advance(seconds=59)
    assert other.deliver_due() == 0 and posted == []
    clock.advance(seconds=1)
    assert other.deliver_due() == 1
    assert [uri for uri, _form in posted] == [uris["shop"]]
    (done,) = deliveries(wsgi_app)
    assert done.attempts == 2 and done.delivered_at == clock.now()


def test_a_logout_owed_to_an_application_that_no_longer_takes_them_is_dropped(wsgi_app, clock):
    """Its back-channel URI was removed after the session ended: the delivery is closed
    as failed, with the reason, and the sender goes on with the next one."""
    uris = shops_owed_logouts(wsgi_app, clock, ("gone", 10), ("shop", 0))
    sender, posted = recording_sender(wsgi_app)
    assert sender.deliver_due() == 1
    assert [uri for uri, _form in posted] == [uris["shop"]]
    clock.advance(hours=1)
    assert sender.deliver_due() == 0 and len(posted) == 1
    dropped, done = sorted(deliveries(wsgi_app), key=lambda row: row.id)
    assert done.delivered_at is not None
    assert (dropped.failed_at, dropped.delivered_at) == (clock.now() - timedelta(hours=1), None)
    assert (dropped.last_error, dropped.attempts) == ("no back-channel logout URI", 1)


class ClaimRace:
    """Lets another sender take one logout, with its own connection, right after
    `engine`'s sender has picked its candidate and before it claims it."""

    CANDIDATE_SELECT = "SELECT oidc_logout_deliveries.id, oidc_logout_deliveries.attempts"

    def __init__(self, engine, other: LogoutSender, times: int) -> None:
        self.engine = engine
        self.other = other
        self.times = times
        self.taken: list[int] = []

    def __enter__(self) -> ClaimRace:
        event.listen(self.engine, "after_cursor_execute", self._other_takes_one)
        return self

    def __exit__(self, *exc_info: object) -> None:
        event.remove(self.engine, "after_cursor_execute", self._other_takes_one)

    def _other_takes_one(self, conn, cursor, statement, *args) -> None:
        if not statement.startswith(self.CANDIDATE_SELECT) or len(self.taken) == self.times:
            return
        # In a thread, so that if the other sender waited for this one's lock the test
        # would fail on the timeout below instead of hanging.
        thread = threading.Thread(target=lambda: self.taken.append(self.other.deliver_due(1)))
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the other sender waited for this one's claim"


def test_a_sender_claiming_while_another_claims_takes_a_different_logout(
    wsgi_app, make_app, app_settings, clock
):
    """On PostgreSQL the first sender's SELECT locks only the logout it picked and the
    other (another process, with its own engine) skips to the next; on SQLite the other
    takes the same one first, the first sender's claim fails, and it looks again."""
    uris = shops_owed_logouts(wsgi_app, clock, ("one", 0), ("two", 0))
    sender, posted = recording_sender(wsgi_app)
    other, other_posted = recording_sender(make_app(app_settings))
    with ClaimRace(wsgi_app.registry["db_engine"], other, times=1) as race:
        assert sender.deliver_due() == 1
    assert race.taken == [1]
    assert sorted(uri for uri, _form in posted + other_posted) == sorted(uris.values())
    rows = deliveries(wsgi_app)
    assert [(row.attempts, row.delivered_at is not None) for row in rows] == [(1, True)] * 2


@pytest.mark.backends("sqlite")
def test_a_sender_that_loses_twenty_claims_in_a_row_leaves_the_rest_to_its_next_run(
    wsgi_app, make_app, app_settings, clock
):
    # Only SQLite: on PostgreSQL the other sender cannot take the logout picked.
    uris = shops_owed_logouts(wsgi_app, clock, *[(f"shop{n:02}", 0) for n in range(25)])
    sender, posted = recording_sender(wsgi_app)
    other, other_posted = recording_sender(make_app(app_settings))
    with ClaimRace(wsgi_app.registry["db_engine"], other, times=25) as race:
        assert sender.deliver_due() == 0
    assert race.taken == [1] * 20 and posted == []
    assert [uri for uri, _form in other_posted] == [uris[f"shop{n:02}"] for n in range(20)]
    # The next run sends the rest.
    assert sender.deliver_due() == 5
    assert [uri for uri, _form in posted] == [uris[f"shop{n:02}"] for n in range(20, 25)]


def test_logouts_due_at_the_same_instant_go_out_in_the_order_they_were_owed(wsgi_app, clock):
    uris = shops_owed_logouts(wsgi_app, clock, *[(f"shop{n}", 0) for n in range(3)])
    # Moving the first logout's due time away and back makes PostgreSQL store the row
    # anew, after the others in the table and in the index, so neither order gives it.
    with db(wsgi_app) as session, session.begin():
        first = min(session.scalars(select(OidcLogoutDelivery)), key=lambda row: row.id)
        for moved in (clock.now() - timedelta(seconds=1), clock.now()):
            session.execute(
                update(OidcLogoutDelivery)
                .where(OidcLogoutDelivery.id == first.id)
                .values(next_attempt_at=moved)
            )
    sender, posted = recording_sender(wsgi_app)
    assert sender.deliver_due() == 3
    assert [uri for uri, _form in posted] == [uris[f"shop{n}"] for n in range(3)]
