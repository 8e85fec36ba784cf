"""Where the time goes: py-spy recordings of the server under wrk, and cProfile call
counts of the same requests made in-process."""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import HOST, ROOT, BenchError
from bench.load import Scenario, Wrk
from bench.processes import Processes, Server


@dataclass
class StackSummary:
    """What a py-spy recording in collapsed-stack form says about the time spent inside
    the WSGI app (below Router.__call__), in shares of those samples."""

    samples: int  # of threads with something to do
    in_app: int  # of those, inside the app
    # Each sample goes to the package of its innermost frame outside the standard
    # library (the app counts as "app", compiled page templates as "chameleon").
    by_package: list[tuple[float, str]]
    # The app's own functions, by how often they are on the stack.
    app_functions: list[tuple[float, str]]
    # Every function by how often it is on the stack, and where samples were taken.
    inclusive: list[tuple[float, str]]
    own: list[tuple[float, str]]


@dataclass
class CallCount:
    """A deterministic measure of Python work: cProfile over requests made in-process."""

    calls_per_request: float
    # (share of the request's profiled time, function) for the costliest parts below
    # the view's outer plumbing.
    cumulative: list[tuple[float, str]]


@dataclass
class Profile:
    scenario: str
    title: str
    backend: str
    svg: Path
    report: Path
    stacks: StackSummary
    calls: CallCount | None = None


_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
_TEMPLATE_MODULE = re.compile(r"^[\w.-]+_[0-9a-f]{32}\.py$")
_STDLIB = re.compile(r"/lib/python3\.\d+/(?!site-packages/)|^<frozen ")
# Innermost frames of threads that have nothing to do: a waitress worker waiting for a
# task, the main thread waiting for socket events. While py-spy pauses the process it
# cannot tell these from work, so they are left out.
_IDLE = {("Condition.wait", "threading.py"), ("poll", "waitress/wasyncore.py")}
APP_ENTRY = "Router.__call__"


def _frame(frame: str) -> tuple[str, str, str]:
    """(function, shortened file, package) of one collapsed-stack frame."""
    match = _FRAME.match(frame)
    if match is None:
        return frame, "", ""
    function, path = match.group("function"), match.group("file")
    if "/site-packages/" in path:
        short = path.split("/site-packages/", 1)[1]
        package = short.split("/", 1)[0]
    elif path.startswith(str(ROOT) + "/"):
        short = path[len(str(ROOT)) + 1 :]
        package = short.split("/", 1)[0]
    elif _TEMPLATE_MODULE.match(Path(path).name):
        short, package = Path(path).name, "chameleon"
    elif _STDLIB.search(path):
        short, package = re.split(r"/lib/python3\.\d+/", path)[-1], ""
    else:
        short, package = path, path
    return function, short, package


def summarize_collapsed(text: str, top: int = 40) -> StackSummary:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    app: Counter[str] = Counter()
    busy = 0
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_frame(frame) for frame in stack.split(";") if "(" in frame]
        if not frames or frames[-1][:2] in _IDLE:
            continue
        count = int(count_text)
        busy += count
        entry = next((i for i, f in enumerate(frames) if f[0] == APP_ENTRY), None)
        if entry is None:
            continue
        frames = frames[entry:]
        total += count
        names = [f"{function} ({short})" for function, short, _ in frames]
        for name in set(names):
            inclusive[name] += count
        for name in {n for n, f in zip(names, frames, strict=True) if f[2] == "app"}:
            app[name] += count
        own[names[-1]] += count
        packages[next((f[2] for f in reversed(frames) if f[2]), "stdlib")] += count

    def shares(counter: Counter[str], limit: int) -> list[tuple[float, str]]:
        return [(n / total, name) for name, n in counter.most_common(limit)] if total else []

    return StackSummary(
        busy,
        total,
        shares(packages, 12),
        shares(app, 12),
        shares(inclusive, top),
        shares(own, top),
    )


def profile_scenario(
    options: argparse.Namespace,
    processes: Processes,
    wrk: Wrk,
    server: Server,
    scenario: Scenario,
    backend: str,
    workdir: Path,
) -> Profile:
    """Record the server under the scenario's load twice: a flame graph for people, then
    collapsed stacks for the summary. Both files go beside the results file (bench/ for
    RESULTS.md), so that a trial run with --results elsewhere leaves bench/'s alone."""
    seconds = options.profile_seconds
    directory = options.results.resolve().parent
    directory.mkdir(parents=True, exist_ok=True)
    svg = directory / f"profile-{scenario.name}-{backend}.svg"
    raw = workdir / f"profile-{scenario.name}-{backend}.raw"
    recordings = [
        (svg, ["--format", "flamegraph", "--nolineno"]),
        (raw, ["--format", "raw", "--nolineno", "--full-filenames"]),
    ]
    for output, flags in recordings:
        load = wrk.start(server, scenario, seconds + 3)
        time.sleep(1)
        spy = processes.start(
            [options.py_spy, "record", "--pid", str(server.pid), "--duration", str(seconds)]
            + ["--rate", "100", "--output", str(output), *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            spy_output, _ = spy.communicate(timeout=seconds + 60)
        finally:
            processes.stop(spy)
        wrk.finish(load, scenario, seconds + 3)
        if spy.returncode != 0 or not output.exists():
            raise BenchError(f"py-spy failed ({spy.returncode}):\n{spy_output}")
    stacks = summarize_collapsed(raw.read_text())
    report = directory / f"profile-{scenario.name}-{backend}.txt"
    return Profile(scenario.name, scenario.title, backend, svg, report, stacks)


def write_profile_report(profile: Profile, seconds: int) -> None:
    """The full lists behind the summary in RESULTS.md, beside the flame graph."""
    stacks = profile.stacks
    lines = [
        f"{profile.title} on {profile.backend}: py-spy at 100 Hz for {seconds} s under wrk.",
        f"{stacks.samples} samples of busy threads, {stacks.in_app} of them inside the app"
        f" ({APP_ENTRY}); the shares below are of those.",
        "",
        "By package (innermost frame outside the standard library):",
    ]
    lines += [f"  {share:6.1%}  {name}" for share, name in stacks.by_package]
    lines += ["", "App functions on the stack:"]
    lines += [f"  {share:6.1%}  {name}" for share, name in stacks.app_functions]
    lines += ["", "All functions on the stack:"]
    lines += [f"  {share:6.1%}  {name}" for share, name in stacks.inclusive]
    lines += ["", "Where the samples were taken:"]
    lines += [f"  {share:6.1%}  {name}" for share, name in stacks.own]
    if profile.calls is not None:
        lines += [
            "",
            f"cProfile, in-process: {profile.calls.calls_per_request:.0f} Python function"
            " calls per request; share of the profiled request time:",
        ]
        lines += [f"  {share:6.1%}  {name}" for share, name in profile.calls.cumulative]
    profile.report.write_text("\n".join(lines) + "\n")


def _environ(path: str, headers: dict[str, str] | None = None) -> dict[str, object]:
    """A WSGI environ of a GET of `path`, with these request headers (a Cookie, an
    Accept-Language) besides Host."""
    environ: dict[str, object] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": HOST,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": HOST,
        "REMOTE_ADDR": HOST,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def count_calls(
    wsgi_app: Callable,
    path_for: Callable[[int], str],
    status: str,
    headers_for: Callable[[int], dict[str, str]] | None = None,
) -> CallCount:
    """Python function calls per request and where the profiled time goes, for requests
    handed straight to the WSGI app in this process (request i: GET path_for(i) with the
    headers headers_for(i), such as a session cookie). Unlike requests per second, the
    call count does not move with the machine's load."""
    answered: list[str] = []

    def start_response(status_line: str, headers: object, exc_info: object = None) -> None:
        answered.append(status_line)

    def request(i: int) -> None:
        headers = headers_for(i) if headers_for is not None else None
        b"".join(wsgi_app(_environ(path_for(i), headers), start_response))
        if not answered[-1].startswith(status):
            raise BenchError(f"GET {path_for(i)} answered {answered[-1]} in-process")

    for i in range(100):
        request(i)
    rounds = 400
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(100, 100 + rounds):
        request(i)
    profiler.disable()
    stats = pstats.Stats(profiler)
    entries = stats.stats  # type: ignore[attr-defined]
    whole = max(entry[3] for entry in entries.values())

    def module(key: tuple[str, int, str]) -> tuple[str, str]:
        """(shortened file, package) of a profiled function."""
        _, short, package = _frame(f"{key[2]} ({key[0]})")
        return short, package

    cumulative = []
    for key, (_, _, _, spent, callers) in entries.items():
        share = spent / whole
        short, package = module(key)
        # Where the request enters a package from another one (the app's functions always
        # count), below the outer wrappers that every request passes through.
        entered = package == "app" or any(module(c)[1] not in (package, "") for c in callers)
        if 0.03 <= share <= 0.6 and package and key[0] != "~" and entered:
            cumulative.append((share, f"{key[2]} ({short})"))
    cumulative.sort(reverse=True)
    return CallCount(stats.total_calls / rounds, cumulative[:25])  # type: ignore[attr-defined]


class _EnglishAsIs:
    """A translate hook that leaves every message in English, for comparison."""

    def __init__(self, localizer: object) -> None:
        self.localizer = localizer

    def __call__(
        self,
        msgid: str,
        domain: str | None = None,
        mapping: dict[str, object] | None = None,
        context: object = None,
        target_language: str | None = None,
        default: str | None = None,
    ) -> str:
        from translationstring import TranslationString

        text = default or msgid
        return TranslationString(text, mapping=mapping).interpolate(text) if mapping else text

    def plural(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


def translation_cost(wsgi_app: Callable, rounds: int = 9, requests: int = 300) -> float:
    """How much more the German sign-in page costs with its translations than with its
    English text left as is: requests handed to the app in this process, in runs that
    alternate between the two; the median of the rounds' ratios, minus one. The app's
    per-locale translate hook (registry["page_translators"]) is swapped for each run."""
    headers = {"Accept-Language": "de"}

    def page() -> None:
        answered: list[str] = []
        body = b"".join(
            wsgi_app(_environ("/account/signin", headers), lambda s, h, e=None: answered.append(s))
        )
        if not answered[-1].startswith("200") or b'lang="de"' not in body:
            raise BenchError("GET /account/signin in German did not answer a German page")

    page()
    translators = wsgi_app.registry["page_translators"]  # type: ignore[attr-defined]
    real = translators["de"]
    as_is = _EnglishAsIs(real.localizer)

    def timed(translator: object) -> float:
        translators["de"] = translator
        started = time.perf_counter()
        for _ in range(requests):
            page()
        return time.perf_counter() - started

    ratios = []
    try:
        for _ in range(3):
            page()
        for i in range(rounds):
            order = (real, as_is) if i % 2 == 0 else (as_is, real)
            seconds = {id(t): timed(t) for t in order}
            ratios.append(seconds[id(real)] / seconds[id(as_is)])
    finally:
        translators["de"] = real
    ratios.sort()
    return ratios[len(ratios) // 2] - 1
