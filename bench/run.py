"""The load benchmark behind `make bench`.

It serves the app with waitress (4 threads, production-like settings) on SQLite and on a
throwaway PostgreSQL, each seeded with 100,000 accounts, 1,000,000 reset codes and 3,000
accounts with an authenticator app, and drives eleven scenarios. With wrk: GET sign-in,
in English and in German (Accept-Language: de); GET reset link (its 303); GET reset form,
with the session cookies of 200 opened links; GET second-factor page, with the cookies
of 100 sign-ins waiting for their code (made right before it runs: they lapse after five
minutes); POST sign-in; POST forgot-password; the identity provider's discovery document
and its JWKS. From Python threads, since their requests carry state: the whole sign-in
with an authenticator code (password, then code, each time on another account), and
refresh-token grants at the token endpoint, in chains (each answer's new refresh token
goes into the chain's next request). In the same run it measures a minimal Pyramid app
as the baseline (for the GET pages and documents also in short runs that alternate with
the app's, whose median ratio is the one compared with the target; the reset link and
its form combine into the whole open of an emailed link, 1 / (1/a + 1/b); the refresh
grants alternate likewise with the same chains against the baseline's POST /token,
which answers alike without the database or a signature), one argon2id verification,
known-versus-unknown email timings, reset-link latency against a small database, and the
app's peak memory; then it profiles the five GET scenarios with py-spy and counts their
Python calls with cProfile. Every run is appended to bench/RESULTS.md with the ratios the
project aims for.

    .venv/bin/python -m bench.run              # what `make bench` runs
    .venv/bin/python -m bench.run --help       # shorter runs, one backend, ...
    .venv/bin/python -m bench.run --only oidc-jwks-get,oidc-refresh-post
                                               # those scenarios only (and the baseline)

Traffic goes to 127.0.0.1 only. Every process it starts (servers, wrk, py-spy,
PostgreSQL) is stopped when it ends, on error and on Ctrl-C or SIGTERM too.

    run.py           this: the order of the run, the scenarios, the latency measurements
    seed.py          bulk seeding: SQLite executemany in one transaction, PostgreSQL COPY
    serve.py         waitress serving the app, or baseline_app.py, in a process of its own
    processes.py     starting and stopping processes; how busy the rest of the machine is
    load.py, wrk/    wrk and its Lua scripts; client.py: single requests by hand
    sessions.py      session cookies for wrk; the sign-in with a code, driven from Python
    oidc.py          the token endpoint's refresh chains, driven from Python
    profiles.py      py-spy under load and cProfile call counts
    report.py        the targets and the section appended to RESULTS.md
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, quote_plus

from alembic import command
from alembic.config import Config

from app.services.passwords.hashing import PasswordHasher
from app.settings import ENVIRONMENT_OVERRIDES
from bench.client import Client, open_form_session
from bench.common import BENCH, ROOT, BenchError, log
from bench.load import Scenario, Wrk, wrk_version
from bench.oidc import (
    BASELINE_TOKEN_PATH,
    JWKS_PATH,
    REFRESH_SCENARIO,
    TOKEN_PATH,
    RefreshChains,
    baseline_tokens,
)
from bench.processes import CpuMeter, Processes, Server, app_settings, start_server, stop_on_sigterm
from bench.profiles import (
    Profile,
    count_calls,
    profile_scenario,
    translation_cost,
    write_profile_report,
)
from bench.report import (
    BackendResults,
    Run,
    evaluate,
    git_commit,
    machine_info,
    versions,
    write_results,
)
from bench.seed import (
    EMAIL_DOMAIN,
    KNOWN_LOCAL_PART,
    Seeded,
    known_email,
    seed_postgresql,
    seed_refresh_tokens,
    seed_sqlite,
    seed_totp_accounts,
    totp_email,
    unknown_email,
)
from bench.serve import WAITRESS_THREADS
from bench.sessions import (
    CookieFile,
    TotpAccount,
    TotpSignIns,
    pending_sign_in_cookies,
    reset_form_cookies,
)

# Every seeded account has this password (one argon2id hash shared by all of them).
PASSWORD = "plum orbit canvas thunder 42"
WRONG_PASSWORD = "quiet harbour lantern 1987"
# The password that held the strength check for seconds before it was bounded.
WORST_PASSWORD = ("!$%(+0123456789<@[{|" * 10)[:128]
SAMPLE_CODES = 50_000
# Session cookies of opened reset links, and of sign-ins waiting for their second factor.
RESET_FORM_COOKIES = 200
PENDING_SIGN_IN_COOKIES = 100
DISCOVERY_PATH = "/.well-known/openid-configuration"


def shown(path: Path) -> str:
    """The path relative to the project if it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def interleaved(
    samples: int, first: Callable[[int], float], second: Callable[[int], float]
) -> tuple[list[float], list[float]]:
    """Time first(i) and second(i) alternately, swapping which goes first each round, so
    that drift in the machine's load falls on both alike."""
    a: list[float] = []
    b: list[float] = []
    for i in range(samples):
        if i % 2 == 0:
            a.append(first(i))
            b.append(second(i))
        else:
            b.append(second(i))
            a.append(first(i))
    return a, b


def time_verify(hasher: PasswordHasher, password_hash: str, rounds: int = 20) -> float:
    """Median seconds of one argon2id verification at the configured parameters."""
    for _ in range(3):
        hasher.verify(PASSWORD, password_hash)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        matches, _ = hasher.verify(PASSWORD, password_hash)
        timings.append(time.perf_counter() - started)
        if not matches:
            raise BenchError("the seeded password hash does not verify")
    return statistics.median(timings)


def parallel_verify_rate(
    hasher: PasswordHasher, password_hash: str, threads: int, seconds: float = 3.0
) -> float:
    """Verifications per second with `threads` threads verifying at once. This is what
    the machine really gives argon2id; it is less than cores / one verification when
    the cores share memory bandwidth (19 MiB per hash) or other work."""
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def verify_until_deadline(index: int) -> None:
        while time.perf_counter() < deadline:
            hasher.verify(PASSWORD, password_hash)
            counts[index] += 1

    workers = [threading.Thread(target=verify_until_deadline, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - started)


def alembic_upgrade(url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["sqlalchemy.url"] = url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


@contextlib.contextmanager
def databases(
    backend: str, workdir: Path, results_info: dict[str, str]
) -> Iterator[tuple[str, str, int | None]]:
    """Two empty databases (big, small) for the backend, removed afterwards, and the pid
    of the database server if there is one."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'big.sqlite'}", f"sqlite:///{workdir / 'small.sqlite'}", None
        return
    from tests.postgres import PostgresServer, find_bin_dir

    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise BenchError(
            "PostgreSQL server binaries not found (looked in $PG_BIN, /usr/lib/postgresql/*/bin"
            " and pg_config --bindir): install postgresql (apt-get install postgresql), or run"
            " with --backends sqlite"
        )
    version = subprocess.run(
        [str(bin_dir / "postgres"), "--version"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    results_info["postgresql"] = version
    server = PostgresServer(bin_dir)
    try:
        server.start()
        for name in ("bench_big", "bench_small"):
            server.janitor(name).init()
        postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
        yield server.url("bench_big"), server.url("bench_small"), postmaster
    finally:
        server.stop()


def run_backend(
    backend: str,
    options: argparse.Namespace,
    processes: Processes,
    wrk: Wrk,
    workdir: Path,
    password_hash: str,
    info: dict[str, str],
    baseline: Baseline,
) -> BackendResults:
    log(f"\n== {backend} ==")
    seed = seed_sqlite if backend == "sqlite" else seed_postgresql
    with databases(backend, workdir, info) as (big_url, small_url, database_pid):
        for url in (big_url, small_url):
            alembic_upgrade(url)
        seeded = seed(big_url, options.accounts, options.codes, password_hash, SAMPLE_CODES)
        # One set of settings for the server and for everything made outside it that it
        # must read: the encrypted authenticator secrets, the in-process app's cookies.
        settings = app_settings(big_url)
        seed_totp_accounts(
            big_url, seeded, options.totp_accounts, password_hash, settings["app.secret"]
        )
        log(
            f"  seeded {seeded.accounts:,} accounts and {seeded.codes:,} codes"
            f" in {seeded.seconds:.1f} s, {len(seeded.totp_secrets):,} accounts with an"
            f" authenticator app in {seeded.totp_seconds:.1f} s"
        )
        small_accounts = min(options.accounts, options.small_codes)
        small = seed(small_url, small_accounts, options.small_codes, password_hash, SAMPLE_CODES)
        results = BackendResults(backend, big_url.split(":", 1)[0], seeded, small)
        results.whole_run = options.whole

        big_server = start_server(processes, "accounts", f"app-{backend}", workdir, settings)
        # The small database serves the latencies only, which a selection of scenarios
        # (--only) skips, with the profiles.
        small_server = (
            start_server(
                processes, "accounts", f"app-{backend}-small", workdir, app_settings(small_url)
            )
            if options.whole
            else None
        )
        servers = [big_server] + ([small_server] if small_server else [])
        wrk.meter.roots = [server.pid for server in servers] + [baseline.server.pid]
        wrk.meter.roots += [database_pid] if database_pid else []
        try:
            scenarios, in_process = make_scenarios(options, big_server, seeded, workdir, settings)
            if [scenario.name for scenario in scenarios] != list(SCENARIOS):
                raise BenchError("bench.run.SCENARIOS does not name make_scenarios' scenarios")
            for scenario in scenarios:
                if scenario.name not in options.scenarios:
                    continue
                # (wrk.run calls scenario.prepare first, so it serves the rounds too.)
                results.scenarios[scenario.name] = wrk.run(big_server, scenario)
                if scenario.name in COMPARED_WITH_BASELINE and options.rounds > 0:
                    rounds, unexpected = wrk.paired_rounds(
                        baseline.server, baseline.partner(scenario.name), big_server, scenario
                    )
                    results.rounds[scenario.name] = rounds
                    results.rounds_unexpected[scenario.name] = unexpected
                results.peak_after[scenario.name] = big_server.memory_kib("VmHWM")
            if small_server is not None:
                measure_latencies(options, results, big_server, small_server, seeded, small)
            if options.py_spy and options.whole:
                profiled = [s for s in scenarios if s.name in PROFILED]
                for scenario in profiled:
                    if scenario.prepare is not None:
                        scenario.prepare()
                    profile = profile_scenario(
                        options, processes, wrk, big_server, scenario, backend, workdir
                    )
                    results.profiles.append(profile)
                    log(f"  profiled {scenario.title}: {shown(profile.svg)}")
                add_call_counts(results, results.profiles, settings, scenarios, in_process)
                for profile in results.profiles:
                    write_profile_report(profile, options.profile_seconds)
            results.peak_rss_kib = big_server.memory_kib("VmHWM")
            results.rss_kib = big_server.memory_kib("VmRSS")
            results.log_problems = [line for server in servers for line in server.log_problems()]
        finally:
            for server in reversed(servers):
                processes.stop(server.process)
    return results


# The scenarios profiled with py-spy and counted with cProfile.
PROFILED = ("signin-get", "signin-get-de", "reset-link-get", "reset-form-get", "two-factor-get")


@dataclass
class InProcess:
    """A profiled scenario's requests as count_calls makes them, in this process."""

    path_for: Callable[[int], str]
    status: str
    headers_for: Callable[[int], dict[str, str]] | None = None


def add_call_counts(
    results: BackendResults,
    profiles: list[Profile],
    settings: dict[str, str],
    scenarios: list[Scenario],
    in_process: dict[str, InProcess],
) -> None:
    """cProfile the profiled GET scenarios in this process, against the same database and
    with the server's settings, so that the session cookies made for the server are
    valid here too (made again first, since a pending sign-in lapses); then what the
    translations cost the German sign-in page."""
    from app import main as make_accounts_app

    wsgi_app = make_accounts_app({}, **settings)
    by_name = {scenario.name: scenario for scenario in scenarios}
    try:
        for profile in profiles:
            scenario = by_name[profile.scenario]
            if scenario.prepare is not None:
                scenario.prepare()
            how = in_process[profile.scenario]
            profile.calls = count_calls(wsgi_app, how.path_for, how.status, how.headers_for)
        results.translation_cost = translation_cost(wsgi_app)
        log(f"  translations cost the German sign-in page {results.translation_cost:.1%}")
    finally:
        wsgi_app.registry["db_engine"].dispose()


def expect_page(
    client: Client,
    path: str,
    marker: bytes,
    cookie: str = "",
    headers: dict[str, str] | None = None,
) -> None:
    """A 200 whose body holds `marker`: the page meant, not another one that also
    answers 200."""
    answer = client.expect(200, "GET", path, cookie=cookie, headers=headers)
    if marker not in answer.body:
        raise BenchError(f"GET {path} answered 200 without {marker!r}: {answer.body[:300]!r}")


def expect_document(client: Client, path: str, marker: bytes) -> None:
    """A 200 JSON document holding `marker`, that any cache may keep."""
    answer = client.expect(200, "GET", path)
    content_type = answer.header("Content-Type") or ""
    cache_control = answer.header("Cache-Control") or ""
    if (
        not content_type.startswith("application/json")
        or not cache_control.startswith("public")
        or marker not in answer.body
    ):
        raise BenchError(
            f"GET {path} answered 200 ({content_type}, Cache-Control {cache_control!r})"
            f" without {marker!r}: {answer.body[:300]!r}"
        )


def make_scenarios(
    options: argparse.Namespace,
    server: Server,
    seeded: Seeded,
    workdir: Path,
    settings: dict[str, str],
) -> tuple[list[Scenario], dict[str, InProcess]]:
    """The scenarios in the order they run (SCENARIOS names them), and how count_calls
    makes the requests of those that are profiled."""
    form = open_form_session(server.port)
    codes = seeded.sample_codes
    paths_file = workdir / "reset-paths.txt"
    paths_file.write_text("".join(f"/account/reset_password/{code}\n" for code in codes))
    threads = str(options.wrk_threads)
    accounts = str(seeded.accounts)
    email_prefix = f"email={KNOWN_LOCAL_PART}"
    email_suffix = quote(f"@{EMAIL_DOMAIN}", safe="")
    password = quote_plus(PASSWORD)
    last = seeded.accounts
    german = {"Accept-Language": "de"}

    # Codes from the middle of the sample: opening a link does not spend its code, and no
    # scenario spends any, but these are not the ones the latencies are measured with.
    middle = len(codes) // 2
    form_codes = codes[middle : middle + RESET_FORM_COOKIES]
    reset_cookies = CookieFile(
        workdir / "reset-form-cookies.txt", lambda: reset_form_cookies(server.port, form_codes)
    )
    # The last accounts with an authenticator app wait at the second step; the sign-ins
    # with a code start from the first (asking for the password spends no code anyway).
    totp_count = len(seeded.totp_secrets)
    pending_emails = [
        totp_email(n)
        for n in range(max(1, totp_count - PENDING_SIGN_IN_COOKIES + 1), totp_count + 1)
    ]
    pending_cookies = CookieFile(
        workdir / "two-factor-cookies.txt",
        lambda: pending_sign_in_cookies(
            server.port, form, pending_emails, PASSWORD, WAITRESS_THREADS
        ),
    )
    sign_ins = TotpSignIns(
        form,
        [TotpAccount(totp_email(n), secret) for n, secret in enumerate(seeded.totp_secrets, 1)],
        PASSWORD,
        options.connections,
    )
    # Each refresh chain on a login session of its own, on accounts from the middle of
    # the table: POST sign-in starts sessions from the first accounts on, and an account
    # keeps only its 20 newest sessions.
    first = seeded.accounts // 2
    chain_emails = [
        known_email((first + n) % seeded.accounts + 1) for n in range(options.connections)
    ]
    chains = RefreshChains(
        REFRESH_SCENARIO,
        TOKEN_PATH,
        options.connections,
        lambda count: seed_refresh_tokens(settings, chain_emails, count),
        verify_signature=True,
    )

    scenarios = [
        Scenario(
            "signin-get",
            "GET /account/signin",
            "/account/signin",
            smoke=lambda c: expect_page(c, "/account/signin", b'<html lang="en"'),
        ),
        Scenario(
            "signin-get-de",
            "GET /account/signin (German)",
            "/account/signin",
            headers=["Accept-Language: de"],
            smoke=lambda c: expect_page(c, "/account/signin", b'<html lang="de"', headers=german),
        ),
        Scenario(
            "reset-link-get",
            "GET /account/reset_password/{code}",
            "/account/reset_password/",
            "reset_link.lua",
            [str(paths_file), threads],
            f"CODES_FILE {threads} (50,000 paths of valid codes, one per request)",
            smoke=lambda c: c.expect(
                303, "GET", f"/account/reset_password/{codes[0]}", location="/reset_password"
            ),
        ),
        Scenario(
            "reset-form-get",
            "GET /account/reset_password (form)",
            "/account/reset_password",
            "session_cookies.lua",
            [str(reset_cookies.path), threads],
            f"COOKIES_FILE {threads} ({RESET_FORM_COOKIES} session cookies of opened reset"
            " links, one per request)",
            smoke=lambda c: expect_page(
                c, "/account/reset_password", b'name="confirm_password"', reset_cookies.cookies[0]
            ),
            prepare=reset_cookies.refresh,
        ),
        Scenario(
            "two-factor-get",
            "GET /account/signin/two_factor",
            "/account/signin/two_factor",
            "session_cookies.lua",
            [str(pending_cookies.path), threads],
            f"COOKIES_FILE {threads} ({PENDING_SIGN_IN_COOKIES} session cookies of sign-ins"
            " waiting for their second factor, made right before the run)",
            smoke=lambda c: expect_page(
                c, "/account/signin/two_factor", b'name="code"', pending_cookies.cookies[0]
            ),
            prepare=pending_cookies.refresh,
        ),
        Scenario(
            "signin-post",
            "POST /account/signin (right password)",
            "/account/signin",
            "post_form.lua",
            [
                "/account/signin",
                form.cookie,
                f"csrf_token={form.token}&came_from=%2Faccount&password={password}&{email_prefix}",
                email_suffix,
                accounts,
                threads,
            ],
            "/account/signin 'session=...' 'csrf_token=...&came_from=%2Faccount&password=...&"
            f"email={KNOWN_LOCAL_PART}' '%40{EMAIL_DOMAIN}' {accounts} {threads}",
            smoke=lambda c: c.expect(
                303,
                "POST",
                "/account/signin",
                {"csrf_token": form.token, "email": known_email(last), "password": PASSWORD},
                form.cookie,
                location="/account",
            ),
        ),
        Scenario(
            "api-signin-post",
            "POST /api/v1/session (JSON, app mode, right password)",
            "/api/v1/session",
            "post_json.lua",
            [
                "/api/v1/session",
                f'{{"password": {json.dumps(PASSWORD)}, "email": "{KNOWN_LOCAL_PART}',
                f'@{EMAIL_DOMAIN}"}}',
                accounts,
                threads,
            ],
            f'/api/v1/session \'{{"password": "...", "email": "{KNOWN_LOCAL_PART}\''
            f" '@{EMAIL_DOMAIN}\"}}' {accounts} {threads}",
            smoke=lambda c: c.expect_json(
                201, "/api/v1/session", {"email": known_email(last), "password": PASSWORD}
            ),
        ),
        Scenario(
            "signin-totp-post",
            "POST sign-in, then authenticator code",
            "/account/signin",
            args_text=f"Python: {options.connections} threads, each with a bench.client.Client,"
            " sign in again and again: POST /account/signin (right password, 303), then POST"
            " /account/signin/two_factor with the code pyotp makes for the account now (303"
            f" to /account); each time another of the {totp_count:,} accounts with an"
            " authenticator app; counts whole sign-ins",
            smoke=sign_ins.smoke,
            driver=sign_ins.run,
        ),
        Scenario(
            "forgot-post",
            "POST /account/forgot_password",
            "/account/forgot_password",
            "post_form.lua",
            [
                "/account/forgot_password",
                form.cookie,
                f"csrf_token={form.token}&{email_prefix}",
                email_suffix,
                accounts,
                threads,
            ],
            "/account/forgot_password 'session=...' 'csrf_token=...&"
            f"email={KNOWN_LOCAL_PART}' '%40{EMAIL_DOMAIN}' {accounts} {threads}",
            smoke=lambda c: c.expect(
                303,
                "POST",
                "/account/forgot_password",
                {"csrf_token": form.token, "email": known_email(last)},
                form.cookie,
                location="/account/reset_sent",
            ),
        ),
        Scenario(
            "oidc-discovery-get",
            f"GET {DISCOVERY_PATH}",
            DISCOVERY_PATH,
            smoke=lambda c: expect_document(c, DISCOVERY_PATH, b'"token_endpoint"'),
        ),
        Scenario(
            "oidc-jwks-get",
            f"GET {JWKS_PATH}",
            JWKS_PATH,
            smoke=lambda c: expect_document(c, JWKS_PATH, b'"RS256"'),
        ),
        Scenario(
            REFRESH_SCENARIO,
            f"POST {TOKEN_PATH} (refresh grant)",
            TOKEN_PATH,
            args_text=f"Python: {options.connections} threads, each a chain of refresh-token"
            f" grants on its own connection: POST {TOKEN_PATH} grant_type=refresh_token with"
            " HTTP Basic client authentication, the answer's new refresh token sent in the"
            " chain's next request; each chain from its own starting token, on a login"
            " session of its own account (a first-party confidential client, the sessions"
            " and the tokens made through the app's services right before the run); every"
            " answer checked (200, JSON, no-store, Bearer, a JWT access token, the scope, a"
            " new refresh token); counts grants",
            smoke=chains.smoke,
            prepare=chains.prepare,
            driver=chains.run,
        ),
    ]

    def cookie_from(cookie_file: CookieFile) -> Callable[[int], dict[str, str]]:
        return lambda i: {"Cookie": cookie_file.cookies[i % len(cookie_file.cookies)]}

    in_process = {
        "signin-get": InProcess(lambda i: "/account/signin", "200"),
        "signin-get-de": InProcess(lambda i: "/account/signin", "200", lambda i: german),
        "reset-link-get": InProcess(
            lambda i: f"/account/reset_password/{codes[i % len(codes)]}", "303"
        ),
        "reset-form-get": InProcess(
            lambda i: "/account/reset_password", "200", cookie_from(reset_cookies)
        ),
        "two-factor-get": InProcess(
            lambda i: "/account/signin/two_factor", "200", cookie_from(pending_cookies)
        ),
    }
    return scenarios, in_process


def measure_latencies(
    options: argparse.Namespace,
    results: BackendResults,
    big_server: Server,
    small_server: Server,
    seeded: Seeded,
    small: Seeded,
) -> None:
    """Sequential requests from one client, each kind interleaved with its counterpart."""
    big = Client(big_server.port)
    little = Client(small_server.port)
    form = open_form_session(big_server.port)
    try:
        reset_n = min(options.reset_samples, len(small.sample_codes), len(seeded.sample_codes))
        big_codes = seeded.sample_codes[-reset_n:]
        small_codes = small.sample_codes[:reset_n]

        def reset_big(i: int) -> float:
            path = f"/account/reset_password/{big_codes[i]}"
            return big.expect(303, "GET", path).seconds

        def reset_small(i: int) -> float:
            path = f"/account/reset_password/{small_codes[i]}"
            return little.expect(303, "GET", path).seconds

        interleaved(min(20, reset_n), reset_big, reset_small)  # warm-up
        a, b = interleaved(reset_n, reset_big, reset_small)
        results.reset_big_ms, results.reset_small_ms = median_ms(a), median_ms(b)
        log(
            f"  reset link median: {results.reset_big_ms:.2f} ms with {seeded.codes:,} codes,"
            f" {results.reset_small_ms:.2f} ms with {small.codes:,}"
        )

        # "Known" is an account with a wrong password: what someone probing for accounts
        # sees. Distinct addresses each time, far from the ones wrk used.
        def sign_in(email: str) -> float:
            fields = {"csrf_token": form.token, "email": email, "password": WRONG_PASSWORD}
            return big.expect(400, "POST", "/account/signin", fields, form.cookie).seconds

        def forgot(email: str) -> float:
            fields = {"csrf_token": form.token, "email": email}
            return big.expect(303, "POST", "/account/forgot_password", fields, form.cookie).seconds

        n = options.samples
        top = seeded.accounts
        interleaved(3, lambda i: sign_in(known_email(top - i)), lambda i: sign_in(unknown_email(i)))
        a, b = interleaved(
            n,
            lambda i: sign_in(known_email(top - 10 - i)),
            lambda i: sign_in(unknown_email(10 + i)),
        )
        results.signin_known_ms, results.signin_unknown_ms = median_ms(a), median_ms(b)
        interleaved(
            3,
            lambda i: forgot(known_email(top - 1000 - i)),
            lambda i: forgot(unknown_email(1000 + i)),
        )
        a, b = interleaved(
            n,
            lambda i: forgot(known_email(top - 1010 - i)),
            lambda i: forgot(unknown_email(1010 + i)),
        )
        results.forgot_known_ms, results.forgot_unknown_ms = median_ms(a), median_ms(b)
        log(
            f"  sign-in median: known {results.signin_known_ms:.1f} ms,"
            f" unknown {results.signin_unknown_ms:.1f} ms; forgot-password median:"
            f" known {results.forgot_known_ms:.1f} ms, unknown {results.forgot_unknown_ms:.1f} ms"
        )

        # Registrations of new addresses, one client, the worst-case password interleaved
        # with an ordinary one.
        def register(password: str, i: int) -> float:
            fields = {
                "csrf_token": form.token,
                "email": f"register{i}-{len(password)}@{EMAIL_DOMAIN}",
                "password": password,
                "confirm_password": password,
            }
            return big.expect(303, "POST", "/account/register", fields, form.cookie).seconds

        interleaved(3, lambda i: register(WORST_PASSWORD, i), lambda i: register(PASSWORD, i))
        a, b = interleaved(
            options.samples,
            lambda i: register(WORST_PASSWORD, 10 + i),
            lambda i: register(PASSWORD, 10 + i),
        )
        results.register_worst_ms = [seconds * 1000 for seconds in a]
        results.register_ordinary_ms = [seconds * 1000 for seconds in b]
        log(
            f"  POST register median: worst-case password {statistics.median(a) * 1000:.0f} ms,"
            f" ordinary {statistics.median(b) * 1000:.0f} ms"
        )
    finally:
        big.close()
        little.close()


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Load benchmark of the app; appends its results to bench/RESULTS.md.",
    )
    parser.add_argument("--backends", default="sqlite,postgresql", help="%(default)s")
    parser.add_argument("--duration", type=float, default=10, help="seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2, help="seconds before each")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--small-codes", type=int, default=1_000)
    parser.add_argument(
        "--totp-accounts",
        type=int,
        default=3_000,
        help="accounts with an authenticator app; each sign-in with a code takes another"
        " (default %(default)s)",
    )
    parser.add_argument("--samples", type=int, default=50, help="known/unknown requests each")
    parser.add_argument("--reset-samples", type=int, default=200, help="reset-link requests each")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=15,
        help="at most this many seconds to wait before each measured run for other"
        " processes to leave the machine idle (default %(default)s)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=7,
        help="alternating baseline/app runs for each ratio to the baseline (0: none)",
    )
    parser.add_argument("--round-seconds", type=float, default=2, help="seconds per run")
    parser.add_argument("--profile-seconds", type=int, default=6)
    parser.add_argument("--no-profile", action="store_true", help="skip py-spy")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated scenarios to run, and nothing else but the baseline (no"
        " latencies, no profiles); default: the whole run. Scenarios: " + ", ".join(SCENARIOS),
    )
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument(
        "--fail-on-miss", action="store_true", help="exit 1 when a target is missed"
    )
    options = parser.parse_args(argv)
    options.backend_list = [b.strip() for b in options.backends.split(",") if b.strip()]
    unknown = set(options.backend_list) - {"sqlite", "postgresql"}
    if unknown or not options.backend_list:
        parser.error(f"--backends: choose from sqlite and postgresql, not {options.backends}")
    if options.totp_accounts < 1:
        parser.error("--totp-accounts: at least 1")
    only = [name.strip() for name in options.only.split(",") if name.strip()]
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        parser.error(
            f"--only: no scenario {', '.join(sorted(unknown))}; choose from {', '.join(SCENARIOS)}"
        )
    options.whole = not only
    options.scenarios = [name for name in SCENARIOS if name in only] if only else list(SCENARIOS)
    options.arguments = " ".join(argv if argv is not None else sys.argv[1:])
    return options


def find_py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return str(beside)
    return shutil.which("py-spy")


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    if shutil.which("wrk") is None:
        print(
            "bench: wrk is not installed. Install it with `apt-get install wrk`"
            " (as root, after `apt-get update`), then run `make bench` again.",
            file=sys.stderr,
        )
        return 2
    options.py_spy = None if options.no_profile or not options.whole else find_py_spy()
    if not options.no_profile and options.whole and options.py_spy is None:
        print("bench: py-spy not found (pip install py-spy); profiling is skipped", file=sys.stderr)
    stop_on_sigterm()
    # The same for the servers and for the app built in this process: a DATABASE_URL in
    # the caller's shell must not redirect the benchmark.
    for name in ENVIRONMENT_OVERRIDES:
        os.environ.pop(name, None)
    run = Run(options, machine_info(), datetime.now(UTC))
    clock = time.monotonic()
    info = run.info
    info.update(
        commit=git_commit(),
        versions=versions(),
        wrk=wrk_version(),
        arguments=options.arguments,
        load_before=" ".join(f"{x:.2f}" for x in os.getloadavg()),
    )
    log(
        f"bench: {info['cores']} cores, {info['cpu']}, commit {info['commit']},"
        f" load {info['load_before']}"
    )
    processes = Processes()
    workdir = Path(tempfile.mkdtemp(prefix="accounts-bench-"))
    try:
        hasher = PasswordHasher()
        password_hash = hasher.hash(PASSWORD)
        run.verify_seconds = time_verify(hasher, password_hash)
        run.hash_bound = int(info["cores"]) / run.verify_seconds
        for threads in sorted({int(info["cores"]), WAITRESS_THREADS}):
            run.parallel_verify[threads] = parallel_verify_rate(hasher, password_hash, threads)
        log(
            f"argon2id verify: {run.verify_seconds * 1000:.1f} ms -> hash-bound limit"
            f" {run.hash_bound:.1f} sign-ins/s on {info['cores']} cores; measured at once: "
            + ", ".join(f"{n} threads {rate:.1f}/s" for n, rate in run.parallel_verify.items())
        )
        wrk = Wrk(options, processes, workdir, CpuMeter())
        baseline = measure_baseline(run, processes, wrk, workdir)
        run.backends = [
            run_backend(backend, options, processes, wrk, workdir, password_hash, info, baseline)
            for backend in options.backend_list
        ]
        assert run.baseline is not None
        run.checks = evaluate(run.baseline, run.hash_bound, run.backends)
        info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        run.elapsed = time.monotonic() - clock
        text = write_results(options.results, run)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        processes.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    log("\n" + text)
    log(f"Appended to {options.results}")
    missed = [c for c in run.checks if not c.passed]
    return 1 if missed and options.fail_on_miss else 0


# Every scenario, in the order make_scenarios gives them (what --only chooses from).
SCENARIOS = (
    "signin-get",
    "signin-get-de",
    "reset-link-get",
    "reset-form-get",
    "two-factor-get",
    "signin-post",
    "api-signin-post",
    "signin-totp-post",
    "forgot-post",
    "oidc-discovery-get",
    "oidc-jwks-get",
    REFRESH_SCENARIO,
)
# The scenarios measured as a ratio to the baseline's requests per second, in rounds
# that alternate with it: against its page, and the refresh grants against its
# POST /token.
COMPARED_WITH_BASELINE = (
    "signin-get",
    "signin-get-de",
    "reset-link-get",
    "reset-form-get",
    "two-factor-get",
    "oidc-discovery-get",
    "oidc-jwks-get",
    REFRESH_SCENARIO,
)
BASELINE_SCENARIO = Scenario(
    "baseline", "GET / (baseline app)", "/", smoke=lambda c: c.expect(200, "GET", "/")
)


def baseline_token_scenario(connections: int) -> Scenario:
    chains = RefreshChains("baseline-token", BASELINE_TOKEN_PATH, connections, baseline_tokens)
    return Scenario(
        "baseline-token",
        f"POST {BASELINE_TOKEN_PATH} (baseline app)",
        BASELINE_TOKEN_PATH,
        args_text=f"Python: {connections} threads, chains of POST {BASELINE_TOKEN_PATH} as"
        f" for {REFRESH_SCENARIO}, with the same checks",
        smoke=chains.smoke,
        prepare=chains.prepare,
        driver=chains.run,
    )


@dataclass
class Baseline:
    """The baseline app, left serving for the rounds, and its scenarios."""

    server: Server
    token: Scenario

    def partner(self, scenario: str) -> Scenario:
        """What the scenario alternates with in its rounds."""
        return self.token if scenario == REFRESH_SCENARIO else BASELINE_SCENARIO


def measure_baseline(run: Run, processes: Processes, wrk: Wrk, workdir: Path) -> Baseline:
    """Measure the baseline once (its POST /token too when the refresh grants run), and
    leave it serving for the rounds that alternate with the app's scenarios (stopped
    with every other process at the end)."""
    from bench.baseline_app import make_app

    log("\n== baseline ==")
    server = start_server(processes, "baseline", "baseline", workdir, None)
    wrk.meter.roots = [server.pid]
    run.baseline = wrk.run(server, BASELINE_SCENARIO)
    token = baseline_token_scenario(run.options.connections)
    if REFRESH_SCENARIO in run.options.scenarios:
        run.baseline_token = wrk.run(server, token)
    run.baseline_peak_kib = server.memory_kib("VmHWM")
    if run.options.py_spy:
        run.baseline_calls = count_calls(make_app(), lambda i: "/", "200").calls_per_request
    return Baseline(server, token)


if __name__ == "__main__":
    sys.exit(main())
