"""The log formats the .ini files name, and what importing them costs."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from configparser import ConfigParser
from pathlib import Path

from app.logs import REQUEST_ID, JSONFormatter, TextFormatter

ROOT = Path(__file__).resolve().parents[2]


def _record(message: str = "hello %s", *args: object, **attributes: object) -> logging.LogRecord:
    record = logging.LogRecord("app.test", logging.INFO, __file__, 1, message, args or None, None)
    record.__dict__.update(attributes)
    return record


def test_a_line_logged_outside_a_request_shows_a_dash():
    record = _record("hello %s", "there")
    assert TextFormatter("%(request_id)s %(message)s").format(record) == "- hello there"
    assert json.loads(JSONFormatter().format(record))["request_id"] == "-"


def test_a_record_made_without_the_factory_takes_the_request_id_of_the_moment():
    record = _record()
    record.__dict__.pop("request_id", None)
    token = REQUEST_ID.set("abc123")
    try:
        assert TextFormatter("%(request_id)s").format(record) == "abc123"
    finally:
        REQUEST_ID.reset(token)


def test_json_lines_hold_the_fields_of_the_call_and_the_exception():
    try:
        raise ValueError("broken")
    except ValueError:
        exc_info = sys.exc_info()
    record = _record("done", fields={"status": 200, "path": "/x"}, request_id="r1")
    record.exc_info = exc_info
    line = JSONFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "r1"
    assert entry["message"] == "done"
    assert entry["status"] == 200 and entry["path"] == "/x"
    assert entry["level"] == "INFO" and entry["logger"] == "app.test"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])
    assert "ValueError: broken" in entry["exception"]


def test_the_ini_files_name_these_formatters():
    for name, formatter in (
        ("development.ini", "TextFormatter"),
        ("production.ini", "JSONFormatter"),
    ):
        config = ConfigParser(interpolation=None)
        config.read(ROOT / name)
        classes = [
            config[section].get("class")
            for section in config.sections()
            if section.startswith("formatter_")
        ]
        assert classes == [f"app.logs.{formatter}"], name
        assert config["logger_access"]["qualname"] == "app.access"


def test_reading_the_logging_configuration_silences_no_library_logger():
    """fileConfig disables every logger that exists when it runs and that it does not
    configure. pserve's own imports made some already; importing app.logs, which the
    configuration names, must add none (app/__init__.py stays light)."""
    script = (
        "import logging, logging.config, sys\n"
        "import pyramid.scripts.pserve\n"
        "before = set(logging.root.manager.loggerDict)\n"
        f"logging.config.fileConfig({str(ROOT / 'production.ini')!r})\n"
        "import app\n"
        "from app import make_app\n"
        "import app.services.composition, psycopg, httpx\n"
        "disabled = sorted(n for n, l in logging.root.manager.loggerDict.items()\n"
        "                  if getattr(l, 'disabled', False))\n"
        "print(sorted(set(disabled) - before))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
