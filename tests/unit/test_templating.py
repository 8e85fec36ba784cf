"""The page renderer: a page, then the layout around it; and the Chameleon hook it
relies on (a version range in setup.py, and these tests, guard it)."""

from __future__ import annotations

import secrets

import pytest
from chameleon import PageTemplate
from chameleon.template import BaseTemplate

from app import templating
from app.templating import PageRenderer, PageWithoutTitle


def test_templates_are_compiled_one_at_a_time_through_chameleons_cook(monkeypatch):
    monkeypatch.setattr(BaseTemplate, "cook", templating._cook_one_at_a_time)
    cooked: list[str] = []
    real = templating._original_cook

    def spy(self, body):
        cooked.append(body)
        return real(self, body)

    monkeypatch.setattr(templating, "_original_cook", spy)
    # A body no cache has seen, so that Chameleon must compile it.
    body = f"<p>${{value}} {secrets.token_hex(8)}</p>"
    assert PageTemplate(body)(value="ok").startswith("<p>ok ")
    assert cooked == [body]


def test_a_page_is_rendered_inside_the_layout():
    def page(value, system):
        return "<title>Hello</title><p>content</p>"

    def layout(value, system):
        return f"[{value['title']}|{value['content']}]"

    assert PageRenderer(page, layout)({}, {}) == "[Hello|<p>content</p>]"


def test_a_page_template_without_its_title_is_an_error_not_a_silent_whole_page():
    renderer = PageRenderer(lambda value, system: "<p>no title</p>", lambda v, s: "")
    with pytest.raises(PageWithoutTitle):
        renderer({}, {"renderer_name": "app:templates/example.pt"})
