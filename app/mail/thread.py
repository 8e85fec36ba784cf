"""The outbox's sender (and the back-channel logouts') in a thread of the web process
(mail.delivery = thread)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)


class DeliversDue(Protocol):
    def deliver_due(
        self, limit: int = 100, should_stop: Callable[[], bool] | None = None
    ) -> int: ...


class OutboxThread:
    """Runs an OutboxSender in a background thread of the web process.

    It wakes when a request that queued mail commits, and also polls, so retries and
    messages queued by other processes go out too."""

    def __init__(
        self,
        sender: DeliversDue,
        poll_seconds: float = 5.0,
        housekeeping: Callable[[], Any] | None = None,
        housekeeping_seconds: float = 3600.0,
    ) -> None:
        self.sender = sender
        self.poll_seconds = poll_seconds
        self.housekeeping = housekeeping
        self.housekeeping_seconds = housekeeping_seconds
        self._next_housekeeping = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.sender.deliver_due()
                self._maybe_housekeep()
            except Exception:
                # The database may be unreachable for a while; keep the thread alive.
                log.exception("The outbox sender failed; it will try again")
            self._wake.wait(self.poll_seconds)

    def _maybe_housekeep(self) -> None:
        if self.housekeeping is None or time.monotonic() < self._next_housekeeping:
            return
        self._next_housekeeping = time.monotonic() + self.housekeeping_seconds
        self.housekeeping()
