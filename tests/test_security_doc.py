"""docs/security.md, the security model: every test it names exists, every rule is
cited by its number, and nothing cites a security document outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security.md"
CITED_TEST = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")
RULE = re.compile(r"^(\d+)\. ", re.M)


def test_every_test_the_security_model_names_exists() -> None:
    cited = CITED_TEST.findall(DOC.read_text())
    assert len(cited) > 100
    missing = [
        f"{path}::{name}"
        for path, name in cited
        if not (ROOT / path).exists() or not re.search(rf"def {name}\(", (ROOT / path).read_text())
    ]
    assert missing == []


def test_the_rules_are_numbered_one_after_another() -> None:
    numbers = [int(n) for n in RULE.findall(DOC.read_text())]
    assert numbers == list(range(1, len(numbers) + 1))


def test_the_code_cites_only_the_security_model_of_the_repository() -> None:
    outside = [
        str(path.relative_to(ROOT))
        for folder in ("app", "tests", "bench", "docs")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in {".py", ".md", ".pt"}
        and "node_modules" not in path.parts
        and re.search(r"(?<!docs/)SECURITY\.md", path.read_text())
    ]
    assert outside == []
