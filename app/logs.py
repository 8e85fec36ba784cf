"""Log lines that say which request they belong to, as text or as JSON.

The .ini files name these formatters in their [formatter_*] sections, so the logging
configuration is read before the app is built: this module imports nothing of the app
but the package itself, whose __init__ stays light for that reason. (fileConfig disables
every logger that exists when it runs and that it does not configure; importing the
services here would create, and so silence, the loggers of psycopg, httpx and others.)"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

# The id of the request this thread is serving (set by app/web/request_ids.py), or None.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
NO_REQUEST = "-"

_installed_factory: Callable[..., logging.LogRecord] | None = None

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
# One encoder for every line: json.dumps(default=...) would build a new one each time.
_ENCODER = json.JSONEncoder(default=str)


def install_request_id_factory() -> None:
    """Give every log record a `request_id` attribute, taken when the record is made (in
    the thread that logs it), so that any handler and format can show it. Installed
    once per process, whoever builds the app first."""
    global _installed_factory
    current = logging.getLogRecordFactory()
    if current is _installed_factory:
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        record.request_id = REQUEST_ID.get() or NO_REQUEST
        return record

    _installed_factory = factory
    logging.setLogRecordFactory(factory)


def request_id_of(record: logging.LogRecord) -> str:
    """The record's request id; records made before the factory was installed (or in a
    process without the app, such as an Alembic run) have none."""
    return getattr(record, "request_id", None) or REQUEST_ID.get() or NO_REQUEST


class TextFormatter(logging.Formatter):
    """The usual %-style format, where %(request_id)s is always defined."""

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = request_id_of(record)
        return super().format(record)


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, request id and message, then
    the fields a log call passed as `extra={"fields": {...}}` (the access log's)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime(_TIME_FORMAT, time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "request_id": request_id_of(record),
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return _ENCODER.encode(entry)
