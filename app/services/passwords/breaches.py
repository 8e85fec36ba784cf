"""Is this password in a known breach? Asked of the Pwned Passwords range API with
k-anonymity: only the first five hex characters of the password's SHA-1 leave the
server, and the answer (every known suffix with that prefix, padded with decoys by
`Add-Padding: true`) is searched here. Neither the password, nor its full hash, nor the
account it belongs to is ever sent.

A service that is slow or down never blocks anyone: after `timeout` seconds (2 by
default) the check is skipped, logged (at most once a minute) and counted, and the
password is judged on its other merits. Requests go through one httpx client per
process, which keeps connections to the service open between checks."""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import httpx

from app import metrics

log = logging.getLogger(__name__)

PREFIX_LENGTH = 5
# Checks waiting for an answer at once; more wait their turn, within their own timeout.
MAX_CONCURRENT_CHECKS = 8
WARNING_INTERVAL_SECONDS = 60.0


@dataclass
class BreachCheckCounts:
    """How the checks went since the process started; each is also counted in
    accounts_breached_password_checks_total (app/metrics.py), summed over processes."""

    checked: int = 0
    found: int = 0
    skipped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: str) -> None:
        with self.lock:
            setattr(self, outcome, getattr(self, outcome) + 1)
        metrics.BREACH_CHECKS.labels(outcome).inc()


def sha1_hex(password: str) -> str:
    return hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def times_seen(body: str, suffix: str) -> int:
    """How often the range answer says the suffix was seen (0 if it is not listed; the
    padding decoys are listed with 0)."""
    for line in body.splitlines():
        candidate, _, count = line.strip().partition(":")
        if candidate.upper() == suffix:
            try:
                return int(count)
            except ValueError:
                return 0
    return 0


class BreachedPasswords:
    def __init__(
        self,
        range_url: str,
        timeout: float = 2.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.range_url = range_url if range_url.endswith("/") else range_url + "/"
        self.timeout = timeout
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(timeout),
            headers={"Add-Padding": "true", "User-Agent": "accounts-breach-check"},
            limits=httpx.Limits(max_connections=MAX_CONCURRENT_CHECKS),
            follow_redirects=False,
        )
        self.pool = ThreadPoolExecutor(MAX_CONCURRENT_CHECKS, thread_name_prefix="breach-check")
        self.counts = BreachCheckCounts()
        self._last_warning = -math.inf  # the first skip is always logged

    def times_seen(self, password: str) -> int | None:
        """How many times the password appears in known breaches (0: never), or None if
        the service did not answer in time (the check is then skipped)."""
        digest = sha1_hex(password)
        prefix, suffix = digest[:PREFIX_LENGTH], digest[PREFIX_LENGTH:]
        deadline = time.monotonic() + self.timeout
        future = self.pool.submit(self._ask, prefix, deadline)
        try:
            body = future.result(timeout=self.timeout)
        except FutureTimeout:
            future.cancel()
            body = None
        except (httpx.HTTPError, ValueError) as exc:
            self._skipped(type(exc).__name__)
            return None
        if body is None:
            self._skipped(f"no answer within {self.timeout:g} s")
            return None
        seen = times_seen(body, suffix)
        self.counts.add("checked")
        if seen:
            self.counts.add("found")
        return seen

    def _ask(self, prefix: str, deadline: float) -> str | None:
        # A check that waited for a free thread past its caller's patience is dropped.
        if time.monotonic() >= deadline:
            return None
        response = self.client.get(self.range_url + prefix)
        response.raise_for_status()
        return response.text

    def _skipped(self, reason: str) -> None:
        self.counts.add("skipped")
        now = time.monotonic()
        if now - self._last_warning >= WARNING_INTERVAL_SECONDS:
            self._last_warning = now
            log.warning(
                "Breached-password check skipped (%s); passwords are accepted without it"
                " until the service answers again (%s skipped so far)",
                reason,
                self.counts.skipped,
            )
        return None

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()
