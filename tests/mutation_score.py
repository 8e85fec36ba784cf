"""The mutation score of the last `make mutate` run, from mutmut's results in mutants/.

    score = killed / (total - equivalent)

where a mutant that made the tests run out of time counts as killed (the tests noticed
it), and `equivalent` counts the survivors listed in docs/mutation-testing.md under
"Equivalent mutants" (they change nothing observable). Survivors listed there under
"Accounted for" are known and explained but still count against the score. Every other
survivor, every mutant that no test reaches and every mutant left unchecked (the time
budget ran out) is listed; then the exit status is 1.

Run from the repository root, after `mutmut run`: python -m tests.mutation_score [--diff]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "mutants"
EQUIVALENTS_DOC = ROOT / "docs" / "mutation-testing.md"

# mutmut's exit codes of a mutant's test run, as mutmut itself reads them.
KILLED_CODES = {1, 3}
TIMEOUT_CODES = {24, -24, 152, 255, 36}
SURVIVED_CODES = {0}
NO_TESTS_CODES = {5, 33}
UNCHECKED_CODES = {None}

# A survivor is recorded in the docs as a bullet that starts with its name, in the
# section of its kind.
_RECORDED_LINE = re.compile(r"^- `(app\.[^`]+__mutmut_\d+)`")
EQUIVALENT_SECTION = "## Equivalent mutants"
ACCOUNTED_SECTION = "## Accounted for"


def recorded_survivors(doc: Path | None = None) -> tuple[set[str], set[str]]:
    """(equivalent, accounted for) mutant names, from the docs."""
    doc = doc or EQUIVALENTS_DOC
    equivalent: set[str] = set()
    accounted: set[str] = set()
    if not doc.exists():
        return equivalent, accounted
    section: set[str] | None = None
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = (
                equivalent
                if line.startswith(EQUIVALENT_SECTION)
                else accounted
                if line.startswith(ACCOUNTED_SECTION)
                else None
            )
        elif section is not None and (match := _RECORDED_LINE.match(line)):
            section.add(match.group(1))
    return equivalent, accounted


def mutant_results(results: Path | None = None) -> dict[str, int | None]:
    """Each mutant's exit code (None: not checked yet), from mutmut's .meta files."""
    results = results or RESULTS
    outcome: dict[str, int | None] = {}
    for meta in sorted(results.glob("app/**/*.py.meta")):
        outcome.update(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"])
    return outcome


def status(exit_code: int | None) -> str:
    if exit_code in KILLED_CODES:
        return "killed"
    if exit_code in TIMEOUT_CODES:
        return "timeout"
    if exit_code in SURVIVED_CODES:
        return "survived"
    if exit_code in NO_TESTS_CODES:
        return "no tests"
    if exit_code in UNCHECKED_CODES:
        return "not checked"
    return "suspicious"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--diff", action="store_true", help="show each unaccounted mutant")
    args = parser.parse_args(argv)

    results = mutant_results()
    if not results:
        print("No mutation results in mutants/: run `make mutate` first.", file=sys.stderr)
        return 1
    statuses = {name: status(code) for name, code in results.items()}
    counts = Counter(statuses.values())
    equivalents, accounted = recorded_survivors()
    equivalent_survivors = {n for n in equivalents if statuses.get(n) in ("survived", "no tests")}
    accounted_survivors = {n for n in accounted if statuses.get(n) in ("survived", "no tests")}
    stale = sorted((equivalents | accounted) - equivalent_survivors - accounted_survivors)
    unaccounted = sorted(
        name
        for name, state in statuses.items()
        if state not in ("killed", "timeout")
        and name not in equivalent_survivors | accounted_survivors
    )

    total = len(results)
    detected = counts["killed"] + counts["timeout"]
    scored = total - len(equivalent_survivors)
    score = 100.0 * detected / scored if scored else 0.0
    print()
    print(f"Mutants: {total}")
    for name in ("killed", "timeout", "survived", "no tests", "not checked", "suspicious"):
        print(f"  {name + ':':13} {counts[name]}")
    print(
        f"  of the survivors, equivalent: {len(equivalent_survivors)},"
        f" accounted for: {len(accounted_survivors)} (docs/mutation-testing.md)"
    )
    print(
        f"Mutation score: {score:.1f}% = {detected} killed (timeouts included)"
        f" / ({total} mutants - {len(equivalent_survivors)} equivalent)"
    )
    if stale:
        print(f"\nRecorded in the docs but no longer surviving ({len(stale)}): update the docs")
        for name in stale:
            print(f"  {name}: {statuses.get(name, 'no such mutant')}")
    if unaccounted:
        print(f"\nNot killed and not recorded in the docs ({len(unaccounted)}):")
        for name in unaccounted:
            print(f"  {name}: {statuses[name]}")
            if args.diff and statuses[name] != "not checked":
                print(_diff(name))
        return 1
    return 0


def _diff(name: str) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    module = re.sub(r"\.x[_\u01c1].*$", "", name)
    path = Path(*module.split(".")).with_suffix(".py")
    try:
        return "    " + get_diff_for_mutant(name, path=path).replace("\n", "\n    ")
    except Exception as exc:  # noqa: BLE001 - the diff is only an aid
        return f"    (no diff: {exc})"


if __name__ == "__main__":
    sys.exit(main())
