"""The shape of the code that keeps each rule in one obvious room."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
MAX_MODULE_LINES = 300


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_of_the_app_is_over_300_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in APP.rglob("*.py")
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def test_services_import_nothing_of_pyramid():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            n for n in _imports(path) if n.split(".")[0] == "pyramid"
        )
        for path in (APP / "services").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_no_controller_reaches_the_rate_limiter():
    """Limits are rules of the services; a controller only turns RateLimited into 429."""
    for path in (APP / "controllers").rglob("*.py"):
        text = path.read_text()
        assert "rate_limits" not in text and "rate_limiter" not in text, path.name
