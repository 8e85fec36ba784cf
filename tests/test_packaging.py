"""What an install carries: every template, static file and catalogue of the app, so
that `pip install .` serves the same pages, in every language, as the checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_every_template_static_file_and_catalogue(tmp_path):
    # From the tracked files alone, as a fresh clone or `git archive` has them (a
    # checkout's leftover app.egg-info/SOURCES.txt would hide what setup.py misses).
    source = tmp_path / "source"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True)
    for name in filter(None, listed.stdout.decode().split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        str(path.relative_to(source))
        for folder in ("app/templates", "app/static", "app/locale")
        for path in (source / folder).rglob("*")
        if path.is_file() and path.suffix in (".pt", ".css", ".js", ".po", ".pot")
    }
    assert {p for p in wanted if p.endswith(".po")} >= {
        f"app/locale/{lang}/LC_MESSAGES/app.po" for lang in ("en", "de", "fr", "es")
    }
    assert wanted - packed == set()
