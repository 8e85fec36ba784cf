"""Whether this process can serve requests well, for a load balancer's readiness check:
the database answers, Redis answers (when the rate limits live there), and the outbox
is being delivered (its first due message has waited less than the limit).

A load balancer asks every second, in every process, so the checks run in one thread of
their own, one round at a time: a caller that arrives while a round is running waits
for that round's answer (at most `timeout` seconds) instead of starting another. So a
database that hangs holds one thread, not one per poll; its check reports a timeout."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.services.kernel.clock import Clock
from app.services.kernel.rate_limits import RateLimiter
from app.services.notices.outbox import oldest_due_at

log = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"
TIMEOUT = "timeout"
LATE = "late"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Readiness:
    ready: bool
    # Each check's name and what it found: {"status": "ok"} and maybe more.
    checks: dict[str, dict[str, Any]]


class _Round:
    """One round of the checks, filled in by the checking thread as it goes."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.results: dict[str, dict[str, Any]] = {}
        self.names = names
        self.finished = threading.Event()
        self._lock = threading.Lock()

    def record(self, name: str, status: str, **details: Any) -> None:
        with self._lock:
            self.results[name] = {"status": status, **details}

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """The results so far; a check not finished by now has timed out."""
        with self._lock:
            return {name: self.results.get(name, {"status": TIMEOUT}) for name in self.names}


class ReadinessProbe:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        rate_limiter: RateLimiter,
        outbox_max_age: timedelta | None,
        timeout: float = 2.0,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.rate_limiter = rate_limiter
        self.outbox_max_age = outbox_max_age
        self.timeout = timeout
        names = ["database"]
        if outbox_max_age is not None:
            names.append("outbox")
        if rate_limiter.shared is not None:
            names.append("redis")
        self.names = tuple(names)
        self._lock = threading.Lock()
        self._round: _Round | None = None
        self._was_ready = True

    def check(self) -> Readiness:
        with self._lock:
            current = self._round
            if current is None or current.finished.is_set():
                current = self._round = _Round(self.names)
                threading.Thread(
                    target=self._run, args=(current,), name="readiness", daemon=True
                ).start()
        current.finished.wait(self.timeout)
        checks = current.snapshot()
        ready = all(check["status"] == OK for check in checks.values())
        self._log_change(ready, checks)
        return Readiness(ready, checks)

    def _run(self, current: _Round) -> None:
        try:
            self._check_database(current)
            if self.rate_limiter.shared is not None:
                answers = self.rate_limiter.shared_storage_answers()
                current.record("redis", OK if answers else UNAVAILABLE)
        finally:
            current.finished.set()

    def _check_database(self, current: _Round) -> None:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                current.record("database", OK)
                if self.outbox_max_age is None:
                    return
                due = oldest_due_at(connection)
        except SQLAlchemyError:
            current.record("database", UNAVAILABLE)
            if self.outbox_max_age is not None:
                current.record("outbox", UNKNOWN)
            return
        waited = max((self.clock.now() - due).total_seconds(), 0.0) if due else 0.0
        limit = self.outbox_max_age.total_seconds()
        current.record(
            "outbox",
            OK if waited < limit else LATE,
            waited_seconds=int(waited),
            limit_seconds=int(limit),
        )

    def _log_change(self, ready: bool, checks: dict[str, dict[str, Any]]) -> None:
        """A warning when the process stops being ready and when it is ready again, not
        one per poll."""
        with self._lock:
            changed, self._was_ready = ready != self._was_ready, ready
        if not changed:
            return
        if ready:
            log.warning("Ready again")
        else:
            failing = ", ".join(
                f"{name} {check['status']}"
                for name, check in checks.items()
                if check["status"] != OK
            )
            log.warning("Not ready: %s", failing)
