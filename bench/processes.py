"""The processes the benchmark starts (app servers, wrk, py-spy), the settings the app is
served with, and how busy the rest of the machine is meanwhile."""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.settings import ENVIRONMENT_OVERRIDES
from app.settings.limits import DEFAULT_LIMITS
from bench.common import HOST, ROOT, BenchError

# High enough that no limit is ever reached during a run: the benchmark measures the
# app, not its throttling. RESULTS.md says so with each run. The window is one second:
# a moving window keeps every hit inside it, and all of wrk's requests come from one
# IP, so a minute-long window would hold tens of thousands of entries for that key,
# which the limiter's memory storage re-copies every 10 ms. Real limits cap a key at a
# few dozen entries (50 sign-ins per IP in 5 minutes); a one-second window keeps the
# bookkeeping near that size while every request still checks and records its hits.
RAISED_LIMIT = "1000000/second"


class Processes:
    """Every process the benchmark starts, so that each one is stopped, even on error."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []

    def start(self, args: list[str], **kwargs: Any) -> subprocess.Popen:
        process = subprocess.Popen(args, **kwargs)
        self.running.append(process)
        return process

    def finished(self, process: subprocess.Popen) -> None:
        with contextlib.suppress(ValueError):
            self.running.remove(process)

    def stop(self, process: subprocess.Popen, timeout: float = 10.0) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.finished(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.running)):
            self.stop(process)


def stop_on_sigterm() -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so the finally blocks stop everything."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGHUP, handler)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _machine_busy_seconds() -> float:
    """CPU time the whole machine has spent busy since boot, all cores together."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def _process_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds of the process and of its reaped children)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone in the meantime
        # Fields 4 (ppid) and 14-17 (utime, stime, cutime, cstime) of proc(5).
        ticks = sum(int(x) for x in fields[11:15])
        table[int(entry.name)] = (int(fields[1]), ticks / CLOCK_TICKS)
    return table


class CpuMeter:
    """How busy the rest of the machine was during a measurement: all CPU time spent
    minus that of the benchmark itself, the children it has waited for (wrk), and the
    process trees of `roots` (the app server, PostgreSQL's postmaster)."""

    def __init__(self) -> None:
        self.roots: list[int] = []

    def reading(self) -> tuple[float, float, float]:
        ours = sum(
            usage.ru_utime + usage.ru_stime
            for usage in (
                resource.getrusage(resource.RUSAGE_SELF),
                resource.getrusage(resource.RUSAGE_CHILDREN),
            )
        )
        table = _process_table()
        children: dict[int, list[int]] = {}
        for pid, (parent, _) in table.items():
            children.setdefault(parent, []).append(pid)
        pending = [root for root in self.roots if root in table]
        while pending:
            pid = pending.pop()
            ours += table[pid][1]
            pending += children.get(pid, [])
        return time.monotonic(), _machine_busy_seconds(), ours

    @staticmethod
    def others(before: tuple[float, float, float], after: tuple[float, float, float]) -> float:
        """Cores' worth of CPU that other processes used between two readings."""
        wall = after[0] - before[0]
        foreign = (after[1] - before[1]) - (after[2] - before[2])
        return max(0.0, foreign / wall) if wall > 0 else 0.0


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def url(self, path: str = "/") -> str:
        return f"http://{HOST}:{self.port}{path}"

    def memory_kib(self, field_name: str) -> int:
        """VmHWM (peak resident set) or VmRSS from /proc, in KiB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        match = re.search(rf"^{field_name}:\s+(\d+) kB", status, re.MULTILINE)
        if match is None:
            raise BenchError(f"no {field_name} in /proc/{self.pid}/status")
        return int(match.group(1))

    def log_problems(self) -> list[str]:
        """Lines of the server's log that report an error."""
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if re.search(r"ERROR|CRITICAL|Traceback", line)]

    def log_tail(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-3000:]


def server_environment() -> dict[str, str]:
    """The environment without the variables that would override the bench's settings
    (a DATABASE_URL in the caller's shell must not redirect the benchmark)."""
    return {name: value for name, value in os.environ.items() if name not in ENVIRONMENT_OVERRIDES}


def start_server(
    processes: Processes, kind: str, name: str, workdir: Path, settings: dict[str, str] | None
) -> Server:
    port = free_port()
    args = [sys.executable, "-m", "bench.serve", "--app", kind, "--port", str(port)]
    if settings is not None:
        settings_path = workdir / f"{name}-settings.json"
        settings_path.write_text(json.dumps(settings, indent=2))
        args += ["--settings", str(settings_path)]
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = processes.start(
            args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=server_environment()
        )
    server = Server(name, port, process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"server {name} exited at start-up:\n{server.log_tail()}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"server {name} did not start listening within 60 s:\n{server.log_tail()}")


def app_settings(database_url: str) -> dict[str, str]:
    """Production-like: no debug toolbar, templates not reloaded, no mail thread in the
    web process; plain-http cookies (no TLS here) and rate limits raised out of reach."""
    settings = {
        "sqlalchemy.url": database_url,
        "app.secret": "benchmark-secret-" + os.urandom(16).hex(),
        "app.base_url": "https://accounts.bench.example.com",
        "app.secure_cookies": "false",
        "app.log_reset_links": "false",
        "pyramid.reload_templates": "false",
        "pyramid.debug_authorization": "false",
        "pyramid.debug_notfound": "false",
        "pyramid.debug_routematch": "false",
        "pyramid.default_locale_name": "en",
        "retry.attempts": "3",
        "mail.transport": "smtp",
        "mail.host": HOST,
        "mail.delivery": "worker",
        "mail.default_sender": "Accounts <no-reply@bench.example.com>",
        "ratelimit.storage_uri": "memory://",
    }
    settings.update({f"ratelimit.{name}": RAISED_LIMIT for name in DEFAULT_LIMITS})
    return settings
