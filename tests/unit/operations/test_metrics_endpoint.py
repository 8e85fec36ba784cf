"""The outbox's gauges as /metrics reads them: what each says it measures, and what is
left out, and logged, while the database cannot be reached."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app.models import get_engine
from app.operations.metrics_endpoint import MetricsEndpoint, OutboxGauges
from tests.support import FakeClock

LOGGER = "app.operations.metrics_endpoint"


@pytest.fixture
def unreachable_engine(tmp_path: Path) -> Iterator[Engine]:
    """A database that cannot be opened: its folder does not exist."""
    engine = get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}"})
    yield engine
    engine.dispose()


def test_each_outbox_gauge_says_what_it_measures(engine: Engine, clock: FakeClock) -> None:
    text = MetricsEndpoint(engine, clock).render().decode()

    assert "# HELP accounts_outbox_backlog Emails in the outbox not sent yet" in text
    assert {g.name: g.documentation for g in OutboxGauges(engine, clock).collect()} == {
        "accounts_outbox_backlog": "Emails in the outbox not sent yet (and not given up on).",
        "accounts_outbox_oldest_age_seconds": (
            "How long ago the oldest email not sent yet was queued (0 when none waits)."
        ),
    }


def test_without_the_database_the_gauges_are_left_out_and_the_error_logged(
    unreachable_engine: Engine, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        gauges = list(OutboxGauges(unreachable_engine, clock).collect())
        text = MetricsEndpoint(unreachable_engine, clock).render().decode()

    assert gauges == []
    assert "accounts_outbox_backlog" not in text
    assert [r.getMessage() for r in caplog.records if r.name == LOGGER] == [
        "Outbox gauges left out: OperationalError",
        "Outbox gauges left out: OperationalError",
    ]
