"""The client of the Pwned Passwords range API (docs/security.md 46) on its own: what it
sends, how long it lets a check wait, and what it tells the operator when it gives up.
The service is the local fake of tests/pwned_range_fake.py, over real HTTP."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from app.services.passwords import breaches as breached_passwords
from app.services.passwords.breaches import MAX_CONCURRENT_CHECKS, BreachedPasswords
from tests.pwned_range_fake import FakeRangeAPI, sha1_hex

LEAKED = "velvet hurricane pocket 1999"
SKIPPED = "Breached-password check skipped"


@pytest.fixture(scope="module")
def range_server() -> Iterator[FakeRangeAPI]:
    fake = FakeRangeAPI().start()
    fake.add(LEAKED, times=42)
    yield fake
    fake.stop()


@pytest.fixture
def range_api(range_server: FakeRangeAPI) -> FakeRangeAPI:
    range_server.mode = "answer"
    range_server.requests.clear()
    return range_server


@pytest.fixture
def checkers() -> Iterator[list[BreachedPasswords]]:
    made: list[BreachedPasswords] = []
    yield made
    for checker in made:
        checker.close()


class Clock:
    """Stands in for time.monotonic: each reading returns `now`, then moves it on by
    `step`."""

    def __init__(self, now: float, step: float = 0.0) -> None:
        self.now, self.step = now, step

    def monotonic(self) -> float:
        now = self.now
        self.now += self.step
        return now


def skip_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(SKIPPED)]


def test_the_count_is_read_from_the_answer_and_the_hash_is_sent_only_as_its_prefix(
    range_api, checkers
):
    checker = BreachedPasswords(range_api.url, timeout=2.0)
    checkers.append(checker)

    assert checker.times_seen(LEAKED) == 42
    assert checker.times_seen("never leaked anywhere at all") == 0
    assert [r["path"] for r in range_api.requests] == [
        "/range/" + sha1_hex(LEAKED)[:5],
        "/range/" + sha1_hex("never leaked anywhere at all")[:5],
    ]
    assert (checker.counts.checked, checker.counts.found, checker.counts.skipped) == (2, 1, 0)


def test_a_range_address_without_its_final_slash_is_asked_the_same_way(range_api, checkers):
    checker = BreachedPasswords(range_api.url.rstrip("/"), timeout=2.0)
    checkers.append(checker)

    assert checker.times_seen(LEAKED) == 42
    assert [r["path"] for r in range_api.requests] == ["/range/" + sha1_hex(LEAKED)[:5]]


def test_the_service_is_told_who_asks_and_to_pad_its_answer(range_api, checkers):
    checker = BreachedPasswords(range_api.url, timeout=2.0)
    checkers.append(checker)
    checker.times_seen(LEAKED)

    (request,) = range_api.requests
    headers = {name.lower(): value for name, value in request["headers"].items()}
    assert headers["user-agent"] == "accounts-breach-check"
    assert headers["add-padding"] == "true"


def test_an_unreadable_count_for_the_password_counts_as_not_seen():
    suffix = sha1_hex(LEAKED)[5:]
    body = f"{'0' * 35}:3\r\n{suffix}:many\r\n"

    assert breached_passwords.times_seen(body, suffix) == 0
    assert breached_passwords.times_seen(f"{suffix.lower()}:7", suffix) == 7


def test_the_check_works_where_sha1_is_barred_for_security_uses(range_api, checkers, monkeypatch):
    """On a FIPS-restricted system SHA-1 may only be used for something other than
    security, which is what the range API's k-anonymity asks of it."""
    sha1 = hashlib.sha1

    def restricted_sha1(data=b"", *, usedforsecurity=True):
        if usedforsecurity:
            raise ValueError("[digital envelope routines] unsupported")
        return sha1(data, usedforsecurity=False)

    monkeypatch.setattr(hashlib, "sha1", restricted_sha1)
    checker = BreachedPasswords(range_api.url, timeout=2.0)
    checkers.append(checker)

    assert checker.times_seen(LEAKED) == 42


class RedirectingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    target = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(302)
        self.send_header("Location", self.target + self.path.rsplit("/", 1)[-1])
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args) -> None:  # noqa: A002
        return


def test_a_redirect_from_the_service_is_not_followed(range_api, checkers):
    handler = type("Handler", (RedirectingHandler,), {"target": range_api.url})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        checker = BreachedPasswords(
            f"http://127.0.0.1:{server.server_address[1]}/range/", timeout=2.0
        )
        checkers.append(checker)
        assert checker.times_seen(LEAKED) is None
    finally:
        server.shutdown()
        server.server_close()
    assert range_api.requests == []
    assert checker.counts.skipped == 1


def test_a_check_that_waited_for_a_thread_past_its_callers_patience_is_never_sent(
    range_api, checkers, monkeypatch, caplog
):
    # The worker thread reads the clock exactly when the default two seconds are up.
    monkeypatch.setattr(breached_passwords, "time", Clock(1000.0, step=2.0))
    checker = BreachedPasswords(range_api.url)
    checkers.append(checker)

    with caplog.at_level(logging.WARNING):
        assert checker.times_seen(LEAKED) is None

    assert range_api.requests == []
    assert checker.counts.skipped == 1 and checker.counts.checked == 0
    assert skip_warnings(caplog) == [
        "Breached-password check skipped (no answer within 2 s); passwords are accepted"
        " without it until the service answers again (1 skipped so far)"
    ]


def test_skipped_checks_are_logged_with_their_reason_at_most_once_a_minute_from_the_first(
    range_api, checkers, monkeypatch, caplog
):
    range_api.mode = "fail"
    clock = Clock(5.0)  # seconds after the machine started, as monotonic time counts
    monkeypatch.setattr(breached_passwords, "time", clock)
    checker = BreachedPasswords(range_api.url, timeout=2.0)
    checkers.append(checker)

    with caplog.at_level(logging.WARNING):
        for now in (5.0, 64.9, 65.0):
            clock.now = now
            assert checker.times_seen(LEAKED) is None

    assert checker.counts.skipped == 3
    assert skip_warnings(caplog) == [
        f"{SKIPPED} (HTTPStatusError); passwords are accepted without it until the service"
        f" answers again ({n} skipped so far)"
        for n in (1, 3)
    ]


def test_at_most_eight_checks_wait_on_the_service_and_the_others_give_up_unsent(checkers):
    """While the service is stuck, eight checks wait on it at once; the others wait
    their turn, and a check whose caller gave up in the meantime is never sent."""
    release = threading.Event()
    lock = threading.Lock()
    paths: list[str] = []

    def stuck_service(request: httpx.Request) -> httpx.Response:
        with lock:
            paths.append(request.url.path)
        release.wait(timeout=3.0)
        return httpx.Response(200, text="")

    client = httpx.Client(transport=httpx.MockTransport(stuck_service))
    checker = BreachedPasswords("http://range.test/range/", timeout=0.3, client=client)
    checkers.append(checker)
    results: list[int | None] = []
    callers = [
        threading.Thread(target=lambda i=i: results.append(checker.times_seen(f"number {i}")))
        for i in range(MAX_CONCURRENT_CHECKS + 2)
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    release.set()

    assert results == [None] * (MAX_CONCURRENT_CHECKS + 2)
    assert len(paths) == MAX_CONCURRENT_CHECKS
    assert checker.counts.skipped == MAX_CONCURRENT_CHECKS + 2


def test_requests_to_a_hanging_service_give_up_at_the_timeout_and_free_their_threads(
    range_api, checkers, caplog
):
    """Eight checks left hanging take every thread; each request gives up at the
    timeout, so once the service answers again the next check gets its answer. The
    requests are made from threads named for the logs."""
    range_api.mode = "hang"
    range_api.hang_seconds = 6.0
    checker = BreachedPasswords(range_api.url, timeout=1.5)
    checkers.append(checker)
    results: list[int | None] = []
    callers = [
        threading.Thread(target=lambda i=i: results.append(checker.times_seen(f"number {i}")))
        for i in range(MAX_CONCURRENT_CHECKS)
    ]
    with caplog.at_level(logging.INFO):
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
        range_api.mode = "answer"
        assert checker.times_seen(LEAKED) == 42

    assert results == [None] * MAX_CONCURRENT_CHECKS
    assert len(range_api.requests) == MAX_CONCURRENT_CHECKS + 1
    (warning,) = skip_warnings(caplog)
    # The caller's patience and the request's own timeout run out together; either may
    # be the one that reports it.
    assert warning.startswith(
        (f"{SKIPPED} (no answer within 1.5 s); ", f"{SKIPPED} (ReadTimeout); ")
    ), warning
    assert "passwords are accepted" in warning
    # Only this test's service: another test's checker may still be finishing a request
    # in its own threads, whose log lines land here too.
    (request_logged,) = [
        r for r in caplog.records if r.name == "httpx" and range_api.url in r.getMessage()
    ]
    assert request_logged.threadName.startswith("breach-check_")
