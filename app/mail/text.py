"""The plain-text part of an email, made from its HTML part: one template (and one
translation) per email, and the two parts can never say different things.

Paragraphs and headings become blocks separated by a blank line, list items and table
rows lines of their own, and a link its text followed by its address, unless the text
is the address already, so that every link of the HTML can be copied from the text.
Write each link in a paragraph of its own (its sentence before it), so that the text
reads well too."""

from __future__ import annotations

import re
from html.parser import HTMLParser

BLOCKS = {"p", "div", "h1", "h2", "h3", "ul", "ol", "table", "blockquote"}
LINES = {"li", "tr", "br"}


class _TextWriter(HTMLParser):
    def __init__(self, colon: str) -> None:
        super().__init__(convert_charrefs=True)
        self.colon = colon
        self.parts: list[str] = []
        self.skip = 0
        self.href: str | None = None
        self.link_text: list[str] = []
        # The last link's address: the same address written out after it (for mail
        # programs that hide links) is not repeated in the text.
        self.last_href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("head", "style", "script", "title"):
            self.skip += 1
        elif tag in BLOCKS:
            self.parts.append("\n\n")
        elif tag in LINES:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "a":
            self.href = dict(attrs).get("href")
            self.link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "style", "script", "title"):
            self.skip -= 1
        elif tag in BLOCKS:
            self.parts.append("\n\n")
        elif tag == "th":
            self.parts.append(self.colon)
        elif tag == "a" and self.href is not None:
            text = " ".join("".join(self.link_text).split())
            if text and text != self.href:
                self.parts.append(f"{text}{self.colon}\n{self.href}\n")
            else:
                self.parts.append(f"\n{self.href}\n")
            self.last_href, self.href = self.href, None

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.href is not None:
            self.link_text.append(data)
            return
        if self.last_href and data.strip() == self.last_href:
            return
        self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(html: str, colon: str = ":") -> str:
    """The text of the email; `colon` ends a label (French puts a space before it)."""
    writer = _TextWriter(colon)
    writer.feed(html)
    writer.close()
    text = "".join(writer.parts)
    lines = [line.strip() for line in text.splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
