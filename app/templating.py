"""Chameleon templates for Pyramid, compiled one at a time.

Chameleon turns a template into Python through the ast module, whose node constructors
keep a process-wide recursion counter that is not thread-safe in Python 3.11
(python/cpython#106905): two requests compiling templates at the same moment can fail
with "SystemError: AST constructor recursion depth mismatch". Each template is compiled
once per process, so serialising that step costs nothing afterwards."""

from __future__ import annotations

import threading
from typing import Any

from chameleon.template import BaseTemplate
from pyramid.config import Configurator

_compile_lock = threading.RLock()
_original_cook = BaseTemplate.cook


def _cook_one_at_a_time(self: BaseTemplate, body: str) -> Any:
    with _compile_lock:
        return _original_cook(self, body)


def includeme(config: Configurator) -> None:
    if BaseTemplate.cook is not _cook_one_at_a_time:
        BaseTemplate.cook = _cook_one_at_a_time  # type: ignore[method-assign]
    config.include("pyramid_chameleon")
