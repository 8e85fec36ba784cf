"""What the scenarios behind a session need and wrk cannot make: the session cookies of
opened reset links and of sign-ins waiting for their second factor (written to a file
for wrk/session_cookies.lua), and the whole sign-in with an authenticator app, whose two
requests carry state from one to the next, driven from Python threads (drive(), which
the token endpoint's refresh chains in bench/oidc.py use too)."""

from __future__ import annotations

import collections
import http.client
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyotp

from bench.client import Client, FormSession
from bench.common import BenchError, log
from bench.load import WrkResult
from bench.processes import Server

SIGNIN = "/account/signin"
TWO_FACTOR = "/account/signin/two_factor"
# The authenticator app's time step, as the app checks it (30 s, RFC 6238's default).
TOTP_STEP_SECONDS = 30


class CookieFile:
    """Session cookies, one per line in a file, made anew by refresh(): those of a
    pending sign-in lapse after five minutes, so they are made right before each use."""

    def __init__(self, path: Path, make: Callable[[], list[str]]) -> None:
        self.path = path
        self.make = make
        self.cookies: list[str] = []

    def refresh(self) -> None:
        self.cookies = self.make()
        if not self.cookies:
            raise BenchError(f"no session cookies made for {self.path.name}")
        self.path.write_text("".join(f"{cookie}\n" for cookie in self.cookies))


def _session_of(answer_cookie: str | None, what: str) -> str:
    if answer_cookie is None:
        raise BenchError(f"{what} set no session cookie")
    return answer_cookie


def reset_form_cookies(port: int, codes: list[str]) -> list[str]:
    """The session cookie of each opened reset link (a 303 to the form that keeps the
    code, encrypted, in the session). Opening a link does not spend its code."""
    client = Client(port)
    try:
        cookies = []
        for code in codes:
            path = f"/account/reset_password/{code}"
            answer = client.expect(303, "GET", path, location="/account/reset_password")
            cookies.append(_session_of(answer.session_cookie(), f"GET {path}"))
        return cookies
    finally:
        client.close()


def pending_sign_in_cookies(
    port: int, form: FormSession, emails: list[str], password: str, threads: int
) -> list[str]:
    """The session cookie of a sign-in with the right password on each account (which
    has an authenticator app): the sign-in then waits for its second factor, for five
    minutes. Several clients at once, since each one costs an argon2id verification."""

    def sign_in(chunk: list[str]) -> list[str]:
        client = Client(port)
        try:
            cookies = []
            for email in chunk:
                fields = {
                    "csrf_token": form.token,
                    "came_from": "/account",
                    "email": email,
                    "password": password,
                }
                answer = client.expect(303, "POST", SIGNIN, fields, form.cookie, TWO_FACTOR)
                cookies.append(_session_of(answer.session_cookie(), f"POST {SIGNIN}"))
            return cookies
        finally:
            client.close()

    chunks = [emails[i::threads] for i in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        return [cookie for cookies in pool.map(sign_in, chunks) for cookie in cookies]


@dataclass
class TotpAccount:
    email: str
    secret: str
    # The last time step whose code was sent for it: the app accepts each step once.
    last_step: int = -1


class TotpSignIns:
    """The whole sign-in with an authenticator app: POST /account/signin with the right
    password (303 to the second step, with a new session cookie), then POST
    /account/signin/two_factor with the code the app shows now (303 to /account). Each
    sign-in takes the next account, never one whose current time step was used already,
    so that its code is accepted: with a few thousand accounts no account comes round
    again within a run."""

    def __init__(
        self,
        form: FormSession,
        accounts: list[TotpAccount],
        password: str,
        threads: int,
    ) -> None:
        self.form = form
        self.password = password
        self.threads = threads
        self.queue = collections.deque(accounts)
        self.lock = threading.Lock()

    def take(self) -> tuple[TotpAccount, int]:
        """The next account whose code of the current step is unused, and that step."""
        while True:
            step = int(time.time()) // TOTP_STEP_SECONDS
            with self.lock:
                account = self.queue[0]
                if account.last_step < step:
                    self.queue.rotate(-1)
                    account.last_step = step
                    return account, step
            # Every account was used in this step: wait for the next one.
            time.sleep(0.1)

    def attempt(self, client: Client) -> str | None:
        """One whole sign-in; None if both answers were the expected ones, else what
        went wrong."""
        account, step = self.take()
        fields = {
            "csrf_token": self.form.token,
            "came_from": "/account",
            "email": account.email,
            "password": self.password,
        }
        first = client.request("POST", SIGNIN, fields, self.form.cookie)
        where = first.header("Location") or ""
        cookie = first.session_cookie()
        if first.status != 303 or not where.endswith(TWO_FACTOR) or cookie is None:
            return f"POST {SIGNIN} answered {first.status} {where}: {first.body[:200]!r}"
        code = pyotp.TOTP(account.secret, interval=TOTP_STEP_SECONDS).generate_otp(step)
        fields = {"csrf_token": self.form.token, "code": code}
        second = client.request("POST", TWO_FACTOR, fields, cookie)
        where = second.header("Location") or ""
        if second.status != 303 or not where.endswith("/account"):
            return f"POST {TWO_FACTOR} answered {second.status} {where}: {second.body[:200]!r}"
        return None

    def smoke(self, client: Client) -> None:
        problem = self.attempt(client)
        if problem is not None:
            raise BenchError(problem)

    def run(self, server: Server, seconds: float) -> WrkResult:
        """`threads` clients signing in one after another until the time is up; counts
        the sign-ins completed, like wrk counts answers, and their latencies."""
        return drive(
            "signin-totp-post",
            "sign-in with a code",
            server,
            seconds,
            self.threads,
            lambda _index, client: self.attempt(client),
        )


class Exhausted(Exception):
    """A driver's worker has nothing left to send: it stops before the time is up."""


def drive(
    scenario: str,
    what: str,
    server: Server,
    seconds: float,
    workers: int,
    attempt: Callable[[int, Client], str | None],
) -> WrkResult:
    """`workers` threads, each with its own keep-alive connection, calling
    attempt(index of the worker, its client) one after another until the time is up (or
    it raises Exhausted); counts the attempts that went as expected (attempt answered
    None), like wrk counts answers, and their latencies, and the others by kind."""
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    problems: list[str] = []
    counts = collections.Counter[str]()
    lock = threading.Lock()

    def work(index: int) -> None:
        client = Client(server.port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    problem = attempt(index, client)
                except Exhausted:
                    return
                except TimeoutError:
                    problem, kind = "timeout", "timeouts"
                    client.close()  # the next request opens a new connection
                except (OSError, http.client.HTTPException) as exc:
                    problem, kind = f"socket error: {exc!r}", "socket_errors"
                    client.close()
                else:
                    kind = "status_errors"
                with lock:
                    if problem is None:
                        latencies.append(time.perf_counter() - started)
                    else:
                        counts[kind] += 1
                        problems.append(problem)
        finally:
            client.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if problems:
        log(f"  {what}: {len(problems)} failed, the first: {problems[0]}")
    ordered = sorted(latencies) or [0.0]

    def percentile_ms(percent: float) -> float:
        return ordered[min(len(ordered) - 1, int(percent / 100 * len(ordered)))] * 1000

    return WrkResult(
        scenario=scenario,
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=statistics.median(ordered) * 1000,
        p90_ms=percentile_ms(90),
        p99_ms=percentile_ms(99),
        status_errors=counts["status_errors"],
        socket_errors=counts["socket_errors"],
        timeouts=counts["timeouts"],
        command="",
    )
