"""The targets, and the section that each run appends to bench/RESULTS.md."""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import platform
import re
import sqlite3
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from app.services.passwords.hashing import ARGON2_MEMORY_KIB, ARGON2_PARALLELISM, ARGON2_TIME_COST
from bench.common import ROOT
from bench.load import WrkResult, wrk_seconds
from bench.oidc import REFRESH_SCENARIO
from bench.processes import RAISED_LIMIT
from bench.profiles import Profile
from bench.seed import Seeded

# The goals, as ratios measured in one run.
GOAL_SIGNIN_GET = 0.50  # of the baseline's requests per second, in English and German
GOAL_RESET_GET = 0.45  # the reset link's 303, of the baseline's requests per second
GOAL_RESET_FORM_GET = 0.40  # the form the link leads to, of the baseline's
# The whole open of an emailed link, the 303 and then the form: 1 / (1/a + 1/b) of the
# two rates, against the baseline's (per round, of the two ratios).
GOAL_WHOLE_OPEN = 0.25
GOAL_TWO_FACTOR_GET = 0.40  # the second-factor page, of the baseline's requests per second
GOAL_SIGNIN_POST = 0.85  # of the hash-bound limit: cores / one argon2id verification
GOAL_SIGNIN_TOTP = 0.80  # whole sign-ins with an authenticator code, of the same limit
GOAL_RESET_LATENCY = 1.25  # median with 1,000,000 codes / median with 1,000 codes
GOAL_TIMING_GAP_MS = 10.0  # known vs unknown email, median difference
# Translations' share of the German sign-in page, in-process (with / English as is - 1).
GOAL_TRANSLATION_COST = 0.10
GOAL_PEAK_RSS_MB = 160.0  # one app process, VmHWM, in MB of 1,000,000 bytes
# POST register with the worst password found for the strength check (docs/security.md 28):
# its 99th percentile stays below this (it took 7 to 14 s before the check was bounded).
GOAL_WORST_PASSWORD_P99_MS = 250.0


@dataclass
class BackendResults:
    backend: str
    database: str
    seeded: Seeded
    small_seeded: Seeded
    scenarios: dict[str, WrkResult] = field(default_factory=dict)
    # (baseline req/s, app req/s) of alternating short runs, for the scenarios compared
    # with the baseline; the ratio is the median of the rounds' ratios.
    rounds: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    # Unexpected answers in those runs, the app's and the baseline's together.
    rounds_unexpected: dict[str, int] = field(default_factory=dict)
    # Every scenario, the latencies and the profiles; not so for a selection (--only).
    whole_run: bool = True
    reset_big_ms: float = 0.0
    reset_small_ms: float = 0.0
    signin_known_ms: float = 0.0
    signin_unknown_ms: float = 0.0
    forgot_known_ms: float = 0.0
    forgot_unknown_ms: float = 0.0
    # POST register, one client: the worst-case password, and an ordinary one.
    register_worst_ms: list[float] = field(default_factory=list)
    register_ordinary_ms: list[float] = field(default_factory=list)
    peak_rss_kib: int = 0
    rss_kib: int = 0
    # VmHWM after each scenario, to see which one raised the peak.
    peak_after: dict[str, int] = field(default_factory=dict)
    profiles: list[Profile] = field(default_factory=list)
    # In-process: the German sign-in page with its translations against its English text
    # left as is, minus one (None when not measured: it runs with the profiles).
    translation_cost: float | None = None
    log_problems: list[str] = field(default_factory=list)

    def baseline_ratio(self, scenario: str, baseline: WrkResult) -> float:
        rounds = self.rounds.get(scenario)
        if rounds:
            return statistics.median(app / base for base, app in rounds)
        return self.scenarios[scenario].per_second / baseline.per_second

    def whole_open_rate(self) -> float:
        """Whole opens of an emailed link per second, the 303 and then the form, from
        the two scenarios' rates a and b: 1 / (1/a + 1/b)."""
        return combined(
            self.scenarios[WHOLE_OPEN[0]].per_second, self.scenarios[WHOLE_OPEN[1]].per_second
        )

    def whole_open_rounds(self) -> list[float]:
        """Each round's ratio of the whole open to the baseline: 1 / (1/ra + 1/rb) of the
        round's ratios of the two scenarios."""
        link, form = (self.rounds.get(name, []) for name in WHOLE_OPEN)
        return [
            combined(a / base_a, b / base_b)
            for (base_a, a), (base_b, b) in zip(link, form, strict=True)
        ]

    def whole_open_ratio(self, baseline: WrkResult) -> float:
        rounds = self.whole_open_rounds()
        if rounds:
            return statistics.median(rounds)
        return self.whole_open_rate() / baseline.per_second


# The two requests of opening an emailed reset link: the link's 303, then the form.
WHOLE_OPEN = ("reset-link-get", "reset-form-get")


def combined(a: float, b: float) -> float:
    """The rate of doing one thing at rate a and then one at rate b: 1 / (1/a + 1/b)."""
    return 1 / (1 / a + 1 / b) if a > 0 and b > 0 else 0.0


def percentile(samples: list[float], percent: float) -> float:
    """The value below which `percent` of the samples fall (nearest rank); 0 if none."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, round(percent / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Check:
    target: str
    backend: str
    measured: str
    goal: str
    passed: bool


def _baseline_check(
    r: BackendResults, baseline: WrkResult, name: str, target: str, goal: float
) -> list[Check]:
    """The scenario's ratio to the baseline against its goal, if the scenario ran."""
    if name not in r.scenarios:
        return []
    ratio = r.baseline_ratio(name, baseline)
    return [Check(target, r.backend, f"{ratio:.0%}", f">= {goal:.0%}", ratio >= goal)]


def _hash_bound_check(
    r: BackendResults, hash_bound: float, name: str, target: str, goal: float
) -> list[Check]:
    """The scenario's rate as a share of the hash-bound limit, if the scenario ran."""
    if name not in r.scenarios:
        return []
    share = r.scenarios[name].per_second / hash_bound
    return [Check(target, r.backend, f"{share:.0%}", f">= {goal:.0%}", share >= goal)]


def evaluate(baseline: WrkResult, hash_bound: float, backends: list[BackendResults]) -> list[Check]:
    """The targets of what was measured: a selection of scenarios (--only) checks only
    theirs, and the unexpected answers."""
    checks: list[Check] = []
    for r in backends:
        b = r.backend
        if r.whole_run:
            worst_p99 = percentile(r.register_worst_ms, 99)
            checks.append(
                Check(
                    "POST register with the worst-case password, p99",
                    b,
                    f"{worst_p99:.0f} ms",
                    f"< {GOAL_WORST_PASSWORD_P99_MS:g} ms",
                    worst_p99 < GOAL_WORST_PASSWORD_P99_MS,
                )
            )
        checks += _baseline_check(
            r, baseline, "signin-get", "GET sign-in req/s vs baseline", GOAL_SIGNIN_GET
        )
        checks += _baseline_check(
            r,
            baseline,
            "signin-get-de",
            "GET sign-in in German (Accept-Language: de) req/s vs baseline",
            GOAL_SIGNIN_GET,
        )
        if r.translation_cost is not None:
            checks.append(
                Check(
                    "what translations add to the German sign-in page (in-process)",
                    b,
                    f"{r.translation_cost:.1%}",
                    f"<= {GOAL_TRANSLATION_COST:.0%}",
                    r.translation_cost <= GOAL_TRANSLATION_COST,
                )
            )
        checks += _baseline_check(
            r, baseline, "reset-link-get", "GET reset link (303) req/s vs baseline", GOAL_RESET_GET
        )
        checks += _baseline_check(
            r,
            baseline,
            "reset-form-get",
            "GET reset form (200) req/s vs baseline",
            GOAL_RESET_FORM_GET,
        )
        if all(name in r.scenarios for name in WHOLE_OPEN):
            whole_open = r.whole_open_ratio(baseline)
            checks.append(
                Check(
                    "whole open of a reset link (303 + form) vs baseline",
                    b,
                    f"{whole_open:.0%}",
                    f">= {GOAL_WHOLE_OPEN:.0%}",
                    whole_open >= GOAL_WHOLE_OPEN,
                )
            )
        checks += _baseline_check(
            r,
            baseline,
            "two-factor-get",
            "GET second-factor page req/s vs baseline",
            GOAL_TWO_FACTOR_GET,
        )
        checks += _hash_bound_check(
            r, hash_bound, "signin-post", "POST sign-in req/s vs hash-bound limit", GOAL_SIGNIN_POST
        )
        checks += _hash_bound_check(
            r,
            hash_bound,
            "api-signin-post",
            "POST /api/v1/session req/s vs hash-bound limit",
            GOAL_SIGNIN_POST,
        )
        checks += _hash_bound_check(
            r,
            hash_bound,
            "signin-totp-post",
            "sign-ins with an authenticator code/s vs hash-bound limit",
            GOAL_SIGNIN_TOTP,
        )
        if r.whole_run:
            reset_ratio = r.reset_big_ms / r.reset_small_ms
            signin_gap = abs(r.signin_known_ms - r.signin_unknown_ms)
            forgot_gap = abs(r.forgot_known_ms - r.forgot_unknown_ms)
            peak_mb = r.peak_rss_kib * 1024 / 1e6
            checks += [
                Check(
                    f"reset-link median, {r.seeded.codes:,} vs {r.small_seeded.codes:,} codes",
                    b,
                    f"{reset_ratio:.2f}x",
                    f"<= {GOAL_RESET_LATENCY:.2f}x",
                    reset_ratio <= GOAL_RESET_LATENCY,
                ),
                Check(
                    "sign-in median, known vs unknown email",
                    b,
                    f"{signin_gap:.1f} ms",
                    f"< {GOAL_TIMING_GAP_MS:g} ms",
                    signin_gap < GOAL_TIMING_GAP_MS,
                ),
                Check(
                    "forgot-password median, known vs unknown email",
                    b,
                    f"{forgot_gap:.1f} ms",
                    f"< {GOAL_TIMING_GAP_MS:g} ms",
                    forgot_gap < GOAL_TIMING_GAP_MS,
                ),
                Check(
                    "peak RSS of the app process (VmHWM)",
                    b,
                    f"{peak_mb:.0f} MB",
                    f"< {GOAL_PEAK_RSS_MB:g} MB",
                    peak_mb < GOAL_PEAK_RSS_MB,
                ),
            ]
        unexpected = sum(result.unexpected for result in r.scenarios.values())
        unexpected += sum(r.rounds_unexpected.values())
        checks.append(
            Check(
                "unexpected answers (non-2xx/3xx, socket errors, timeouts; in the rounds too)",
                b,
                str(unexpected),
                "0",
                unexpected == 0,
            )
        )
    return checks


def machine_info() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    meminfo = Path("/proc/meminfo").read_text()
    total = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.MULTILINE)
    return {
        "cores": str(os.cpu_count() or 1),
        "memory": f"{int(total.group(1)) / 1024 / 1024:.1f} GiB" if total else "unknown",
        "cpu": model.group(1).strip() if model else platform.processor() or "unknown",
    }


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain") else "")


def versions() -> str:
    names = ["waitress", "pyramid", "SQLAlchemy", "psycopg", "argon2-cffi"]
    found = []
    for name in names:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found.append(f"{name} {importlib.metadata.version(name)}")
    return ", ".join([f"Python {platform.python_version()}", *found])


RESULTS_HEADER = """# Benchmark results

`make bench` appends one section per run (newest last); see the docstring of
bench/run.py for what it does. Requests per second come from wrk, driving a single
waitress process with 4 threads on the same machine (the sign-in with an authenticator
code and the token endpoint's chained refresh grants, whose requests carry state, from
Python threads instead: whole sign-ins or grants per second); the ratios compare numbers
taken in the same run. The settings raise every
rate limit out of reach (RAISED_LIMIT in bench/processes.py; each run's Server line
shows it) so that the benchmark measures the app rather than its throttling.
"""


@dataclass
class Run:
    """Everything one run measured, for RESULTS.md."""

    options: argparse.Namespace
    info: dict[str, str]
    started: datetime
    elapsed: float = 0.0
    verify_seconds: float = 0.0
    hash_bound: float = 0.0
    # Threads verifying at once -> verifications per second, measured.
    parallel_verify: dict[int, float] = field(default_factory=dict)
    baseline: WrkResult | None = None
    # The baseline's POST /token, when the refresh grants ran.
    baseline_token: WrkResult | None = None
    baseline_peak_kib: int = 0
    baseline_calls: float = 0.0
    backends: list[BackendResults] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)


def write_results(path: Path, run: Run) -> str:
    options, info, backends, baseline = run.options, run.info, run.backends, run.baseline
    assert baseline is not None
    verify_seconds, hash_bound = run.verify_seconds, run.hash_bound
    cores = info["cores"]
    out: list[str] = []
    add = out.append
    add(f"\n## {run.started:%Y-%m-%d %H:%M} UTC, commit {info['commit']}\n")
    add(f"- Machine: {cores} cores, {info['memory']} memory, CPU {info['cpu']}")
    add(
        f"- Load average before / after the run: {info['load_before']} / {info['load_after']}"
        " (other work on the machine shows here and lowers every number)"
    )
    add(f"- Software: {info['versions']}; {info['wrk']}; SQLite {sqlite3.sqlite_version}")
    if "postgresql" in info:
        add(
            f"- PostgreSQL: {info['postgresql']}, the throwaway server of tests/postgres.py"
            " (data in /dev/shm, fsync and synchronous_commit off)"
        )
    add(
        "- Server: waitress, threads=4, 127.0.0.1, one process; settings: reload_templates"
        " false, no debug toolbar, secure_cookies false (plain http), mail.delivery=worker"
        f" (no sender thread), every `ratelimit.*` raised to {RAISED_LIMIT}"
    )
    seeds = ", ".join(
        f"{r.backend} {r.seeded.seconds:.1f} s + {r.seeded.totp_seconds:.1f} s"
        f" (small: {r.small_seeded.seconds:.1f} s)"
        for r in backends
    )
    if backends:
        r0 = backends[0]
        add(
            f"- Data: {r0.seeded.accounts:,} accounts (one shared argon2id hash) and"
            f" {r0.seeded.codes:,} reset codes, then {len(r0.seeded.totp_secrets):,}"
            " accounts with an authenticator app (the same hash; their secrets encrypted"
            " with the server's app.secret); small database"
            f" {r0.small_seeded.accounts:,} accounts and {r0.small_seeded.codes:,} codes."
            f" Seeding took {seeds}."
        )
    add(
        "- Other load: the CPU that processes other than the benchmark's own (itself, wrk,"
        " the server, PostgreSQL) used during each measured wrk run, in cores; anything"
        f" above 0.1 of the {cores} cores means the machine was shared and the numbers"
        " may be low"
    )
    if not options.whole:
        add(
            f"- Scenarios: only {', '.join(options.scenarios)} (--only); no latencies, no"
            " profiles, and only the targets of what ran"
        )
    add(f"- Whole run: {run.elapsed / 60:.1f} min")
    add("\nCommands:\n")
    add("```sh")
    add(f"make bench   # = .venv/bin/python -m bench.run {info['arguments']}".rstrip())
    add(f"# baseline: {baseline.command}")
    if run.baseline_token is not None:
        add(f"# baseline-token: {run.baseline_token.command}")
    if backends:
        for result in backends[0].scenarios.values():
            add(f"# {result.scenario}: {result.command}")
    latencies = (
        f"; latencies: {options.samples} interleaved sequential requests per kind"
        f" ({options.reset_samples} for the reset link), one keep-alive connection"
        if options.whole
        else ""
    )
    add(
        f"# each run is preceded by a {wrk_seconds(options.warmup)} s warm-up that is not"
        " counted (wrk takes whole seconds: the durations asked for are rounded up)" + latencies
    )
    add("```\n")

    add("Raw numbers:\n")
    add(
        "| scenario | backend | req/s | p50 ms | p99 ms | requests | non-2xx/3xx"
        " | socket errors + timeouts | other load (cores) |"
    )
    add("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = [("baseline GET / (fixed page)", "none", baseline)]
    if run.baseline_token is not None:
        rows.append(
            (
                "baseline POST /token, chained (a token answer alike: no database, no signature)",
                "none",
                run.baseline_token,
            )
        )
    for r in backends:
        titles = {
            "signin-get": "GET /account/signin",
            "signin-get-de": "GET /account/signin, Accept-Language: de",
            "reset-link-get": "GET /account/reset_password/{code} (303)",
            "reset-form-get": "GET /account/reset_password, cookie of an opened link",
            "two-factor-get": "GET /account/signin/two_factor, cookie of a pending sign-in",
            "signin-post": "POST /account/signin, right password (303)",
            "api-signin-post": "POST /api/v1/session, JSON, right password (201)",
            "signin-totp-post": "sign-in with an authenticator code: POST password + POST"
            " code (whole sign-ins)",
            "forgot-post": "POST /account/forgot_password (303)",
            "oidc-discovery-get": "GET /.well-known/openid-configuration",
            "oidc-jwks-get": "GET /oidc/jwks",
            REFRESH_SCENARIO: "POST /oidc/token, refresh_token grant, chained (grants)",
        }
        rows += [(titles[name], r.backend, result) for name, result in r.scenarios.items()]
    for title, backend, w in rows:
        add(
            f"| {title} | {backend} | {w.per_second:.1f} | {w.p50_ms:.1f} | {w.p99_ms:.1f}"
            f" | {w.requests:,} | {w.status_errors} | {w.socket_errors + w.timeouts}"
            f" | {w.others_cores:.2f} |"
        )
    add("")
    if any(r.rounds for r in backends):
        add(
            f"Ratios to the baseline, from {options.rounds} rounds of a"
            f" {wrk_seconds(options.round_seconds)} s"
            " baseline run followed by a run of the scenario; the target is the median of the"
            " rounds' ratios (the machine's speed drifts between rounds, each ratio compares"
            " runs seconds apart):\n"
        )
        add(
            "| scenario | backend | baseline req/s by round | app req/s by round"
            " | ratios | median | unexpected answers |"
        )
        add("| --- | --- | --- | --- | --- | ---: | ---: |")
        for r in backends:
            for name, rounds in r.rounds.items():
                shown = name
                if name == REFRESH_SCENARIO:
                    shown += " (grants/s; against the baseline's POST /token, chained alike)"
                add(
                    f"| {shown} | {r.backend} | {', '.join(f'{b:.0f}' for b, _ in rounds)}"
                    f" | {', '.join(f'{a:.0f}' for _, a in rounds)}"
                    f" | {', '.join(f'{a / b:.0%}' for b, a in rounds)}"
                    f" | {r.baseline_ratio(name, baseline):.0%}"
                    f" | {r.rounds_unexpected.get(name, 0)} |"
                )
            whole = r.whole_open_rounds()
            if whole:
                add(
                    f"| whole open: {' + '.join(WHOLE_OPEN)}, 1 / (1/ra + 1/rb) | {r.backend}"
                    " | (above) | (above)"
                    f" | {', '.join(f'{ratio:.0%}' for ratio in whole)}"
                    f" | {r.whole_open_ratio(baseline):.0%} | |"
                )
        add("")
    add("| measurement | backend | value |")
    add("| --- | --- | ---: |")
    add(
        f"| argon2id verify (m={ARGON2_MEMORY_KIB} KiB, t={ARGON2_TIME_COST},"
        f" p={ARGON2_PARALLELISM}), median | none | {verify_seconds * 1000:.1f} ms |"
    )
    add(f"| hash-bound sign-in limit = {cores} cores / verify | none | {hash_bound:.1f} /s |")
    for threads, rate in run.parallel_verify.items():
        add(f"| argon2id verifies/s, {threads} threads at once (measured) | none | {rate:.1f} /s |")
    add(
        f"| peak RSS of the baseline process | none | {run.baseline_peak_kib * 1024 / 1e6:.0f} MB |"
    )
    for r in backends:
        b = r.backend
        for name in (n for n in ("oidc-discovery-get", "oidc-jwks-get") if n in r.scenarios):
            add(
                f"| {name} req/s vs the baseline page, {how_compared(r, name)} | {b}"
                f" | {r.baseline_ratio(name, baseline):.0%} |"
            )
        if REFRESH_SCENARIO in r.scenarios and run.baseline_token is not None:
            add(
                f"| {REFRESH_SCENARIO} grants/s vs the baseline's POST /token,"
                f" {how_compared(r, REFRESH_SCENARIO)} | {b}"
                f" | {r.baseline_ratio(REFRESH_SCENARIO, run.baseline_token):.0%} |"
            )
        if r.whole_run:
            _latency_rows(add, r)
        add(
            f"| app process peak RSS (VmHWM) / RSS at the end | {b}"
            f" | {r.peak_rss_kib * 1024 / 1e6:.0f} MB / {r.rss_kib * 1024 / 1e6:.0f} MB |"
        )
        steps = ", ".join(f"{name} {kib * 1024 / 1e6:.0f}" for name, kib in r.peak_after.items())
        add(f"| app process peak RSS after each scenario in turn, MB | {b} | {steps} |")
    add("\nTargets:\n")
    add("| target | backend | measured | goal | result |")
    add("| --- | --- | ---: | ---: | --- |")
    for c in run.checks:
        verdict = "PASS" if c.passed else "MISS"
        add(f"| {c.target} | {c.backend} | {c.measured} | {c.goal} | {verdict} |")

    for r in backends:
        if r.log_problems:
            add(f"\nServer log errors ({r.backend}), first of {len(r.log_problems)}:\n")
            add("```")
            out.extend(r.log_problems[:10])
            add("```")
    profiles = [p for r in backends for p in r.profiles]
    if profiles:
        add(
            "\nProfiles of the GET scenarios. py-spy recorded the server at 100 Hz while"
            " wrk ran the scenario (flame graphs: profile-SCENARIO-BACKEND.svg beside this"
            " file; full lists in the .txt beside each): of the samples of busy threads, the"
            " share spent inside the app (below Router.__call__, the rest is waitress"
            " reading and writing sockets), and how that time divides by package (innermost"
            " frame outside the standard library; while py-spy pauses the process, a thread"
            " waiting to get the GIL back after a socket or database call is counted where"
            " it waits). Then cProfile, in this process, the same requests (with the same"
            " headers and session cookies) without waitress: Python function calls per"
            f" request (the baseline page takes {run.baseline_calls:.0f}), which does not"
            " move with the machine's load, and the costliest parts of the request.\n"
        )
        for p in profiles:
            stacks = p.stacks
            inside = stacks.in_app / stacks.samples if stacks.samples else 0.0
            add(f"- {p.title} on {p.backend} ({p.svg.name}, {stacks.samples} samples):")
            add(f"  - inside the app: {inside:.0%}; by package: {_shares(stacks.by_package, 8)}")
            add(f"  - app functions on the stack: {_shares(stacks.app_functions, 6)}")
            if p.calls is not None:
                add(
                    f"  - cProfile: {p.calls.calls_per_request:.0f} calls per request;"
                    f" costliest parts: {_shares(p.calls.cumulative, 10)}"
                )
    text = "\n".join(out) + "\n"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(RESULTS_HEADER)
    with path.open("a") as results:
        results.write(text)
    return text


def _latency_rows(add: Callable[[str], None], r: BackendResults) -> None:
    """The measurement table's rows of the latencies, which a whole run measures."""
    b = r.backend
    add(f"| reset link median, {r.seeded.codes:,} codes | {b} | {r.reset_big_ms:.2f} ms |")
    add(f"| reset link median, {r.small_seeded.codes:,} codes | {b} | {r.reset_small_ms:.2f} ms |")
    add(f"| sign-in median, known email (wrong password) | {b} | {r.signin_known_ms:.1f} ms |")
    add(f"| sign-in median, unknown email | {b} | {r.signin_unknown_ms:.1f} ms |")
    add(f"| forgot-password median, known email | {b} | {r.forgot_known_ms:.1f} ms |")
    add(f"| forgot-password median, unknown email | {b} | {r.forgot_unknown_ms:.1f} ms |")
    add(
        f"| whole open of a reset link, 1 / (1/a + 1/b) of the 303's and the form's req/s"
        f" | {b} | {r.whole_open_rate():.1f} /s |"
    )
    for label, samples in (
        ("the worst-case password", r.register_worst_ms),
        ("an ordinary password", r.register_ordinary_ms),
    ):
        add(
            f"| POST register with {label}, median / p99 ({len(samples)} requests) | {b}"
            f" | {percentile(samples, 50):.0f} / {percentile(samples, 99):.0f} ms |"
        )


def how_compared(r: BackendResults, name: str) -> str:
    if r.rounds.get(name):
        return "median of the rounds"
    return "one run each"


def _shares(shares: list[tuple[float, str]], limit: int) -> str:
    return ", ".join(f"{name} {share:.0%}" for share, name in shares[:limit]) or "none"
