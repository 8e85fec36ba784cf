from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functional.upstream.instance import UpstreamInstance, start_upstream


@pytest.fixture(scope="module")
def upstream(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[UpstreamInstance]:
    yield from start_upstream(tmp_path_factory.mktemp("upstream"), sqlite_template)


@pytest.fixture
def app_with_upstream(
    make_app: Any, app_settings: dict[str, Any], upstream: UpstreamInstance
) -> Any:
    return make_app({**app_settings, **upstream.settings()})
