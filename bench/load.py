"""wrk: each scenario's load, and wrk's summary read back as JSON."""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.client import Client
from bench.common import BENCH, HOST, BenchError, log
from bench.processes import CpuMeter, Processes, Server

WRK_SCRIPTS = BENCH / "wrk"
# Other processes using less than this many cores count as a quiet machine.
QUIET_CORES = 0.2


@dataclass
class WrkResult:
    scenario: str
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    status_errors: int  # answers with a status of 400 or more: non-2xx/3xx
    socket_errors: int
    timeouts: int
    command: str
    # Cores' worth of CPU used by processes other than the benchmark's during the run.
    others_cores: float = 0.0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def unexpected(self) -> int:
        return self.status_errors + self.socket_errors + self.timeouts


@dataclass
class Scenario:
    name: str
    title: str
    path: str
    script: str | None = None  # a file in bench/wrk/
    script_args: list[str] = field(default_factory=list)
    args_text: str = ""  # script_args as shown in RESULTS.md (a driver: what it does)
    # One request of the same kind, checked by hand before wrk runs it.
    smoke: Callable[[Client], object] | None = None
    # Request headers for every request, passed to wrk with -H ("Accept-Language: de").
    headers: list[str] = field(default_factory=list)
    # Called just before the scenario's runs (and before it is profiled): makes what its
    # requests need that does not keep, such as the cookies of pending sign-ins.
    prepare: Callable[[], object] | None = None
    # Load that wrk cannot make (requests that carry state from one to the next): called
    # with the server and the seconds to run, in place of wrk; returns the same summary.
    driver: Callable[[Server, float], WrkResult] | None = None


def wrk_seconds(seconds: float) -> int:
    """wrk takes whole seconds only (-d0.5s is a usage error): rounded up, at least 1."""
    return max(1, math.ceil(seconds))


class Wrk:
    def __init__(
        self, options: argparse.Namespace, processes: Processes, workdir: Path, meter: CpuMeter
    ) -> None:
        self.options = options
        self.processes = processes
        self.workdir = workdir
        self.meter = meter
        self.binary = shutil.which("wrk") or "wrk"

    def command(self, server: Server, scenario: Scenario, seconds: float) -> list[str]:
        script = self.workdir / f"{scenario.name}.lua"
        parts = [WRK_SCRIPTS / scenario.script] if scenario.script else []
        parts.append(WRK_SCRIPTS / "report.lua")
        script.write_text("\n".join(part.read_text() for part in parts))
        args = [
            self.binary,
            f"-t{self.options.wrk_threads}",
            f"-c{self.options.connections}",
            f"-d{wrk_seconds(seconds)}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
        ]
        for header in scenario.headers:
            args += ["-H", header]
        args.append(server.url(scenario.path))
        if scenario.script_args:
            args += ["--", *scenario.script_args]
        return args

    def describe(self, scenario: Scenario) -> str:
        """The measured run's command line, readable: the script arguments by name."""
        if scenario.driver is not None:
            return f"{scenario.args_text}, {wrk_seconds(self.options.duration)} s"
        script = "+".join(filter(None, [scenario.script, "report.lua"]))
        headers = "".join(f" -H '{header}'" for header in scenario.headers)
        text = (
            f"wrk -t{self.options.wrk_threads} -c{self.options.connections}"
            f" -d{wrk_seconds(self.options.duration)}s --timeout 10s -s bench/wrk/{script}{headers}"
            f" http://{HOST}:PORT{scenario.path}"
        )
        return text + (f" -- {scenario.args_text}" if scenario.args_text else "")

    def start(self, server: Server, scenario: Scenario, seconds: float) -> subprocess.Popen:
        return self.processes.start(
            self.command(server, scenario, seconds),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self, process: subprocess.Popen, scenario: Scenario, seconds: float) -> WrkResult:
        try:
            out, err = process.communicate(timeout=seconds + 60)
        finally:
            self.processes.stop(process)
        match = re.search(r"^BENCH_JSON (.*)$", out, re.MULTILINE)
        if process.returncode != 0 or match is None:
            raise BenchError(f"wrk failed ({process.returncode}) in {scenario.name}:\n{out}{err}")
        data = json.loads(match.group(1))
        return WrkResult(
            scenario=scenario.name,
            requests=data["requests"],
            seconds=data["duration_us"] / 1e6,
            p50_ms=data["latency_p50_us"] / 1000,
            p90_ms=data["latency_p90_us"] / 1000,
            p99_ms=data["latency_p99_us"] / 1000,
            status_errors=data["status_errors"],
            socket_errors=data["connect_errors"] + data["read_errors"] + data["write_errors"],
            timeouts=data["timeouts"],
            command=self.describe(scenario),
        )

    def wait_for_quiet(self) -> None:
        """Wait (up to --quiet-wait seconds) until other processes leave the machine
        nearly idle, so that a burst of someone else's work does not land in a run."""
        deadline = time.monotonic() + self.options.quiet_wait
        while True:
            before = self.meter.reading()
            time.sleep(1)
            others = CpuMeter.others(before, self.meter.reading())
            if others < QUIET_CORES or time.monotonic() >= deadline:
                return

    def measure(self, server: Server, scenario: Scenario, seconds: float) -> WrkResult:
        """One run of the scenario's load: wrk, or the scenario's own driver (for as many
        whole seconds as wrk would run)."""
        if scenario.driver is not None:
            result = scenario.driver(server, wrk_seconds(seconds))
            result.command = self.describe(scenario)
            return result
        return self.finish(self.start(server, scenario, seconds), scenario, seconds)

    def run(self, server: Server, scenario: Scenario) -> WrkResult:
        """A warm-up (not counted), then the measured run."""
        if scenario.prepare is not None:
            scenario.prepare()
        if scenario.smoke is not None:
            client = Client(server.port)
            try:
                scenario.smoke(client)
            finally:
                client.close()
        self.wait_for_quiet()
        if self.options.warmup > 0:
            self.measure(server, scenario, self.options.warmup)
        before = self.meter.reading()
        result = self.measure(server, scenario, self.options.duration)
        result.others_cores = CpuMeter.others(before, self.meter.reading())
        log(
            f"  {scenario.title:<34} {result.per_second:8.1f} req/s  p50 {result.p50_ms:7.1f} ms"
            f"  non-2xx/3xx {result.status_errors}  other load {result.others_cores:.2f} cores"
        )
        return result

    def paired_rounds(
        self, baseline: Server, baseline_scenario: Scenario, server: Server, scenario: Scenario
    ) -> tuple[list[tuple[float, float]], int]:
        """(baseline req/s, app req/s) of short runs that alternate between the two
        (wrk's, or a scenario's own driver's), and the unexpected answers in all of them.

        A machine shared with others drifts by tens of percent within a minute; a ratio
        taken from runs seconds apart, each with its partner, follows the drift."""
        seconds = self.options.round_seconds
        rounds = []
        unexpected = 0
        for _ in range(self.options.rounds):
            pair = []
            for target, which in ((baseline, baseline_scenario), (server, scenario)):
                pair.append(self.measure(target, which, seconds))
            rounds.append((pair[0].per_second, pair[1].per_second))
            unexpected += sum(result.unexpected for result in pair)
        log(
            f"  {scenario.title:<34} vs baseline, in rounds: "
            + ", ".join(f"{app / base:.0%}" for base, app in rounds)
            + (f"; {unexpected} unexpected answers" if unexpected else "")
        )
        return rounds, unexpected


def wrk_version() -> str:
    result = subprocess.run(
        [shutil.which("wrk") or "wrk", "-v"],
        capture_output=True,
        text=True,
        check=False,
    )
    first = (result.stdout + result.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk"
