"""Bring the catalogues in line with the extracted template (make translations).

`make translations` extracts every message of the "app" domain into app/locale/app.pot
with lingua, then runs this: each shipped language's app.po gains the new messages
(untranslated, for its translator), loses the ones no longer used, and keeps its
translations; the English catalogue is its own source, so each message is its own
translation there. The .mo files are compiled when the app starts (app/i18n.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from app.i18n import DEFAULT_LOCALE, DOMAIN, LANGUAGES, LOCALE_DIR


def update_catalogues(locale_dir: Path = LOCALE_DIR) -> dict[str, int]:
    """Update every language's catalogue from the template; how many messages of each
    still need a translation."""
    missing = {}
    for locale in LANGUAGES:
        # Read afresh for each language: Catalog.update() shares the template's messages.
        with (locale_dir / f"{DOMAIN}.pot").open("rb") as pot:
            template = read_po(pot, domain=DOMAIN)
        path = locale_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.exists():
            with path.open("rb") as po:
                catalog = read_po(po, locale=locale, domain=DOMAIN)
        else:
            catalog = Catalog(locale=locale, domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        _describe(catalog, locale)
        if locale == DEFAULT_LOCALE:
            for message in catalog:
                if message.id:
                    message.string = message.id
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as po:
            write_po(po, catalog, width=88, omit_header=False, sort_output=True)
        missing[locale] = len(untranslated(catalog))
    return missing


def _describe(catalog: Catalog, locale: str) -> None:
    """The catalogue's header: whose it is, not Babel's placeholders."""
    language = Locale.parse(locale).english_name or locale
    catalog.project = "Accounts"
    catalog.version = "1.0"
    catalog.copyright_holder = "the Accounts project"
    catalog.msgid_bugs_address = ""
    catalog.last_translator = "the Accounts project"
    catalog.language_team = language
    catalog.fuzzy = False
    catalog.header_comment = (
        f"# {language} messages of Accounts (domain {DOMAIN!r}).\n"
        "# `make translations` adds new messages; translators fill in their msgstr lines."
    )


def untranslated(catalog: Catalog) -> list[str]:
    """The messages of a catalogue without a translation (or with a plural form empty)."""
    missing = []
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(forms):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def main() -> None:
    missing = update_catalogues()
    for locale, count in missing.items():
        print(f"{locale}: {count} message(s) to translate")
    sys.exit(0)


if __name__ == "__main__":
    main()
