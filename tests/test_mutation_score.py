"""The score `make mutate` prints, from mutmut's results and the survivors the docs
record (tests/mutation_score.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tests import mutation_score

DOC = """# Mutation testing

## Equivalent mutants

- `app.services.a.x_f__mutmut_2`: `x or 1` -> `x or 2`: never reached with x falsy.
- `app.services.a.x_f__mutmut_9`: gone since.

## Accounted for, not equivalent

- `app.services.a.x_f__mutmut_3`: only PostgreSQL can tell.

## Elsewhere

- `app.services.a.x_f__mutmut_4`: not a list of survivors.
"""


def _results(tmp_path: Path, codes: dict[str, int | None]) -> Path:
    meta = tmp_path / "mutants" / "app" / "services" / "a.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    return tmp_path / "mutants"


def test_the_docs_sections_say_which_survivors_are_equivalent_and_which_accounted_for(
    tmp_path: Path,
) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(DOC)

    equivalent, accounted = mutation_score.recorded_survivors(doc)

    assert equivalent == {"app.services.a.x_f__mutmut_2", "app.services.a.x_f__mutmut_9"}
    assert accounted == {"app.services.a.x_f__mutmut_3"}


def test_the_score_leaves_out_the_equivalent_survivors_only(tmp_path, monkeypatch, capsys):
    doc = tmp_path / "doc.md"
    doc.write_text(DOC)
    codes = {f"app.services.a.x_f__mutmut_{n}": 1 for n in range(5, 12)}
    codes.update(
        {
            "app.services.a.x_f__mutmut_1": 36,  # a timeout counts as killed
            "app.services.a.x_f__mutmut_2": 0,
            "app.services.a.x_f__mutmut_3": 0,
        }
    )
    monkeypatch.setattr(mutation_score, "RESULTS", _results(tmp_path, codes))
    monkeypatch.setattr(mutation_score, "EQUIVALENTS_DOC", doc)

    assert mutation_score.main([]) == 0
    out = capsys.readouterr().out
    assert (
        "Mutation score: 88.9% = 8 killed (timeouts included) / (10 mutants - 1 equivalent)" in out
    )
    assert "no longer surviving (1)" in out and "x_f__mutmut_9: killed" in out

    codes["app.services.a.x_f__mutmut_4"] = 0
    codes["app.services.a.x_f__mutmut_12"] = None
    monkeypatch.setattr(mutation_score, "RESULTS", _results(tmp_path / "again", codes))
    assert mutation_score.main([]) == 1
    out = capsys.readouterr().out
    assert "x_f__mutmut_4: survived" in out and "x_f__mutmut_12: not checked" in out
