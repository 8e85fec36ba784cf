"""What /metrics answers: the counters of every process (app/metrics.py), and the
outbox's gauges, read from the database when /metrics is asked (one query a scrape,
nothing per request).

In multiprocess mode (PROMETHEUS_MULTIPROC_DIR) the counters are the sums of every
process's files, so any one app process answers for all of them and for the mail
workers; without it, this process's own."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from app import metrics
from app.services.kernel.clock import Clock
from app.services.notices.outbox import backlog

log = logging.getLogger(__name__)


class OutboxGauges:
    """How many emails wait in the outbox, and how long the oldest has waited."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        try:
            with self.engine.connect() as connection:
                pending = backlog(connection)
        except SQLAlchemyError as exc:
            # No gauges while the database is away (/readyz says so); the counters stay.
            log.warning("Outbox gauges left out: %s", type(exc).__name__)
            return
        oldest = pending.oldest_queued_at
        age = (self.clock.now() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "accounts_outbox_backlog",
            "Emails in the outbox not sent yet (and not given up on).",
            value=pending.count,
        )
        yield GaugeMetricFamily(
            "accounts_outbox_oldest_age_seconds",
            "How long ago the oldest email not sent yet was queued (0 when none waits).",
            value=max(age, 0.0),
        )


class _ThisProcess:
    """The default registry of this process, when there is no multiprocess directory."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


class MetricsEndpoint:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        if metrics.MULTIPROCESS_DIRECTORY:
            MultiProcessCollector(self.registry, path=metrics.MULTIPROCESS_DIRECTORY)
        else:
            self.registry.register(_ThisProcess())
        self.registry.register(OutboxGauges(engine, clock))

    def render(self) -> bytes:
        """The metrics in Prometheus's text format."""
        return generate_latest(self.registry)
