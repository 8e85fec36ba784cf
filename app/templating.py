"""Chameleon templates for Pyramid: pages composed with the shared layout, and
templates compiled one at a time.

A page template starts with its <title> element and goes on with the page's content;
the shared layout (app/templates/shared/layout.pt) is then rendered around the two.
Rendering the page and the layout separately and joining the strings costs a fraction
of Chameleon's macros and slots, which copy the whole template namespace at every step.
The templates listed in WHOLE_DOCUMENTS are complete pages rendered as they are (the
503 page, which must not touch the database the layout reads the visitor from).

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
from pyramid.renderers import RendererHelper
from pyramid_chameleon.zpt import renderer_factory as chameleon_renderer_factory

from app.i18n import page_translator

LAYOUT = "app:templates/shared/layout.pt"
# Complete HTML documents, rendered without the shared layout.
WHOLE_DOCUMENTS = frozenset({"app:templates/errors/unavailable.pt"})
TITLE_START = "<title>"
TITLE_END = "</title>"


class PageWithoutTitle(ValueError):
    """A page template must start with its <title>, which the layout puts in <head>."""


_compile_lock = threading.RLock()
_original_cook = BaseTemplate.cook


def _cook_one_at_a_time(self: BaseTemplate, body: str) -> Any:
    with _compile_lock:
        return _original_cook(self, body)


class PageRenderer:
    """Renders a page template, then the layout around its title and content."""

    def __init__(self, page: Any, layout: Any) -> None:
        self.page = page
        self.layout = layout

    def __call__(self, value: Any, system: dict[str, Any]) -> str:
        request = system.get("request")
        if request is not None:
            system["translate"] = page_translator(request)
        html = self.page(value, system)
        if not html.startswith(TITLE_START):
            raise PageWithoutTitle(f"{system.get('renderer_name')} does not start with <title>")
        title, _, content = html[len(TITLE_START) :].partition(TITLE_END)
        return self.layout({"title": title, "content": content}, system)


def page_renderer_factory(info: Any) -> Any:
    if info.name in WHOLE_DOCUMENTS:
        return chameleon_renderer_factory(info)
    registry = info.registry
    layout = registry.get(LAYOUT)
    if layout is None:
        layout = chameleon_renderer_factory(RendererHelper(name=LAYOUT, registry=registry))
        registry[LAYOUT] = layout
    return PageRenderer(chameleon_renderer_factory(info), layout)


def includeme(config: Configurator) -> None:
    if BaseTemplate.cook is not _cook_one_at_a_time:
        BaseTemplate.cook = _cook_one_at_a_time  # type: ignore[method-assign]
    config.include("pyramid_chameleon")
    config.add_renderer(".pt", page_renderer_factory)
