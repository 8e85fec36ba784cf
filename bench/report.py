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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from app.services.password_hashing import ARGON2_MEMORY_KIB, ARGON2_PARALLELISM, ARGON2_TIME_COST

from .common import ROOT
from .load import WrkResult
from .processes import RAISED_LIMIT
from .profiles import Profile
from .seed import Seeded

# The goals, as ratios measured in one run.
GOAL_SIGNIN_GET = 0.55  # of the baseline's requests per second
GOAL_RESET_GET = 0.45  # of the baseline's requests per second
GOAL_SIGNIN_POST = 0.85  # of the hash-bound limit: cores / one argon2id verification
GOAL_RESET_LATENCY = 1.25  # median with 1,000,000 codes / median with 1,000 codes
GOAL_TIMING_GAP_MS = 10.0  # known vs unknown email, median difference
GOAL_PEAK_RSS_MB = 150.0  # one app process, VmHWM, in MB of 1,000,000 bytes
# POST register with the worst password found for the strength check (SECURITY.md 28):
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
    log_problems: list[str] = field(default_factory=list)

    def baseline_ratio(self, scenario: str, baseline: WrkResult) -> float:
        rounds = self.rounds.get(scenario)
        if rounds:
            return statistics.median(app / base for base, app in rounds)
        return self.scenarios[scenario].per_second / baseline.per_second


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


def evaluate(baseline: WrkResult, hash_bound: float, backends: list[BackendResults]) -> list[Check]:
    checks: list[Check] = []
    for r in backends:
        b = r.backend
        signin_get = r.baseline_ratio("signin-get", baseline)
        reset_get = r.baseline_ratio("reset-link-get", baseline)
        signin_post = r.scenarios["signin-post"].per_second / hash_bound
        reset_ratio = r.reset_big_ms / r.reset_small_ms
        signin_gap = abs(r.signin_known_ms - r.signin_unknown_ms)
        forgot_gap = abs(r.forgot_known_ms - r.forgot_unknown_ms)
        peak_mb = r.peak_rss_kib * 1024 / 1e6
        unexpected = sum(result.unexpected for result in r.scenarios.values())
        worst_p99 = percentile(r.register_worst_ms, 99)
        checks += [
            Check(
                "POST register with the worst-case password, p99",
                b,
                f"{worst_p99:.0f} ms",
                f"< {GOAL_WORST_PASSWORD_P99_MS:g} ms",
                worst_p99 < GOAL_WORST_PASSWORD_P99_MS,
            ),
            Check(
                "GET sign-in req/s vs baseline",
                b,
                f"{signin_get:.0%}",
                f">= {GOAL_SIGNIN_GET:.0%}",
                signin_get >= GOAL_SIGNIN_GET,
            ),
            Check(
                "GET reset link req/s vs baseline",
                b,
                f"{reset_get:.0%}",
                f">= {GOAL_RESET_GET:.0%}",
                reset_get >= GOAL_RESET_GET,
            ),
            Check(
                "POST sign-in req/s vs hash-bound limit",
                b,
                f"{signin_post:.0%}",
                f">= {GOAL_SIGNIN_POST:.0%}",
                signin_post >= GOAL_SIGNIN_POST,
            ),
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
            Check(
                "unexpected answers (non-2xx/3xx, socket errors, timeouts)",
                b,
                str(unexpected),
                "0",
                unexpected == 0,
            ),
        ]
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
waitress process with 4 threads on the same machine; the ratios compare numbers taken
in the same run. The settings raise every rate limit out of reach (RAISED_LIMIT in
bench/processes.py; each run's Server line shows it) so that the benchmark measures the
app rather than its throttling.
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
        f"{r.backend} {r.seeded.seconds:.1f} s (small: {r.small_seeded.seconds:.1f} s)"
        for r in backends
    )
    if backends:
        r0 = backends[0]
        add(
            f"- Data: {r0.seeded.accounts:,} accounts (one shared argon2id hash) and"
            f" {r0.seeded.codes:,} reset codes; small database {r0.small_seeded.accounts:,}"
            f" accounts and {r0.small_seeded.codes:,} codes. Seeding took {seeds}."
        )
    add(
        "- Other load: the CPU that processes other than the benchmark's own (itself, wrk,"
        " the server, PostgreSQL) used during each measured wrk run, in cores; anything"
        f" above 0.1 of the {cores} cores means the machine was shared and the numbers"
        " may be low"
    )
    add(f"- Whole run: {run.elapsed / 60:.1f} min")
    add("\nCommands:\n")
    add("```sh")
    add(f"make bench   # = .venv/bin/python -m bench.run {info['arguments']}".rstrip())
    add(f"# baseline: {baseline.command}")
    if backends:
        for result in backends[0].scenarios.values():
            add(f"# {result.scenario}: {result.command}")
    add(
        f"# each wrk run is preceded by a {options.warmup:g} s warm-up that is not counted;"
        f" latencies: {options.samples} interleaved sequential requests per kind"
        f" ({options.reset_samples} for the reset link), one keep-alive connection"
    )
    add("```\n")

    add("Raw numbers:\n")
    add(
        "| scenario | backend | req/s | p50 ms | p99 ms | requests | non-2xx/3xx"
        " | socket errors + timeouts | other load (cores) |"
    )
    add("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = [("baseline GET / (fixed page)", "none", baseline)]
    for r in backends:
        titles = {
            "signin-get": "GET /account/signin",
            "reset-link-get": "GET /account/reset_password/{code} (303)",
            "signin-post": "POST /account/signin, right password (303)",
            "forgot-post": "POST /account/forgot_password (303)",
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
            f"Ratios to the baseline, from {options.rounds} rounds of a {options.round_seconds:g} s"
            " baseline run followed by a run of the scenario; the target is the median of the"
            " rounds' ratios (the machine's speed drifts between rounds, each ratio compares"
            " runs seconds apart):\n"
        )
        add(
            "| scenario | backend | baseline req/s by round | app req/s by round"
            " | ratios | median |"
        )
        add("| --- | --- | --- | --- | --- | ---: |")
        for r in backends:
            for name, rounds in r.rounds.items():
                add(
                    f"| {name} | {r.backend} | {', '.join(f'{b:.0f}' for b, _ in rounds)}"
                    f" | {', '.join(f'{a:.0f}' for _, a in rounds)}"
                    f" | {', '.join(f'{a / b:.0%}' for b, a in rounds)}"
                    f" | {r.baseline_ratio(name, baseline):.0%} |"
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
        add(f"| reset link median, {r.seeded.codes:,} codes | {b} | {r.reset_big_ms:.2f} ms |")
        add(
            f"| reset link median, {r.small_seeded.codes:,} codes | {b}"
            f" | {r.reset_small_ms:.2f} ms |"
        )
        add(f"| sign-in median, known email (wrong password) | {b} | {r.signin_known_ms:.1f} ms |")
        add(f"| sign-in median, unknown email | {b} | {r.signin_unknown_ms:.1f} ms |")
        add(f"| forgot-password median, known email | {b} | {r.forgot_known_ms:.1f} ms |")
        add(f"| forgot-password median, unknown email | {b} | {r.forgot_unknown_ms:.1f} ms |")
        for label, samples in (
            ("the worst-case password", r.register_worst_ms),
            ("an ordinary password", r.register_ordinary_ms),
        ):
            add(
                f"| POST register with {label}, median / p99 ({len(samples)} requests) | {b}"
                f" | {percentile(samples, 50):.0f} / {percentile(samples, 99):.0f} ms |"
            )
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
        result = "PASS" if c.passed else "MISS"
        add(f"| {c.target} | {c.backend} | {c.measured} | {c.goal} | {result} |")

    for r in backends:
        if r.log_problems:
            add(f"\nServer log errors ({r.backend}), first of {len(r.log_problems)}:\n")
            add("```")
            out.extend(r.log_problems[:10])
            add("```")
    profiles = [p for r in backends for p in r.profiles]
    if profiles:
        add(
            "\nProfiles of the two GET scenarios. py-spy recorded the server at 100 Hz while"
            " wrk ran the scenario (flame graphs: bench/profile-SCENARIO-BACKEND.svg; full"
            " lists in the .txt beside each): of the samples of busy threads, the share spent"
            " inside the app (below Router.__call__, the rest is waitress reading and writing"
            " sockets), and how that time divides by package (innermost frame outside the"
            " standard library; while py-spy pauses the process, a thread waiting to get the"
            " GIL back after a socket or database call is counted where it waits). Then"
            " cProfile, in this process, the same requests without waitress: Python function"
            f" calls per request (the baseline page takes {run.baseline_calls:.0f}), which does"
            " not move with the machine's load, and the costliest parts of the request.\n"
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
        path.write_text(RESULTS_HEADER)
    with path.open("a") as results:
        results.write(text)
    return text


def _shares(shares: list[tuple[float, str]], limit: int) -> str:
    return ", ".join(f"{name} {share:.0%}" for share, name in shares[:limit]) or "none"
