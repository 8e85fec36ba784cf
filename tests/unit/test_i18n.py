"""Languages: which one a request gets, and the catalogues compiled at start-up."""

from __future__ import annotations

import os

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from pyramid.i18n import TranslationString, make_localizer
from translationstring import ChameleonTranslate

from app.i18n import CachedTranslator, compile_catalogues, supported


@pytest.mark.parametrize(
    "value, expected",
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("fr_CH", "fr"),
        ("ES", "es"),
        ("en-GB", "en"),
        ("pt", None),
        ("", None),
        (None, None),
        ("x" * 50, None),
        ("de\x00", None),
    ],
)
def test_a_locale_is_one_of_the_shipped_languages_or_none(value, expected):
    assert supported(value) == expected


def _catalogue(directory, locale="de"):
    catalog = Catalog(locale=locale, domain="app")
    catalog.add("Sign in", "Anmelden")
    path = directory / locale / "LC_MESSAGES" / "app.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as po:
        write_po(po, catalog)
    return path


def test_catalogues_are_compiled_when_missing_or_older_than_their_source(tmp_path):
    po = _catalogue(tmp_path)
    assert compile_catalogues(tmp_path) == tmp_path
    mo = po.with_suffix(".mo")
    assert mo.exists()
    compiled_at = mo.stat().st_mtime_ns
    compile_catalogues(tmp_path)
    assert mo.stat().st_mtime_ns == compiled_at  # up to date: left alone
    os.utime(po, ns=(compiled_at + 10**9, compiled_at + 10**9))
    compile_catalogues(tmp_path)
    assert mo.stat().st_mtime_ns > compiled_at


def test_a_package_that_cannot_be_written_to_gets_its_catalogues_compiled_elsewhere(tmp_path):
    po = _catalogue(tmp_path)
    # Something in the way of the .mo (as a read-only installation would be, even for
    # root): the catalogues are compiled into a folder of their own.
    po.with_suffix(".mo").mkdir()
    target = compile_catalogues(tmp_path)
    assert target != tmp_path
    assert (target / "de" / "LC_MESSAGES" / "app.mo").is_file()


def _localizer(tmp_path):
    catalog = Catalog(locale="de", domain="app")
    catalog.add("Sign in", "Anmelden")
    catalog.add("Signed in as ${email}.", "Angemeldet als ${email}.")
    path = tmp_path / "de" / "LC_MESSAGES" / "app.po"
    path.parent.mkdir(parents=True)
    with path.open("wb") as po:
        write_po(po, catalog)
    return make_localizer("de", [str(compile_catalogues(tmp_path))])


def test_the_page_translator_gives_what_pyramids_own_hook_gives(tmp_path):
    localizer = _localizer(tmp_path)
    cached = CachedTranslator(localizer)
    pyramid_hook = ChameleonTranslate(localizer.translate)
    calls = [
        ("Sign in", {}),
        ("Sign in", {"default": "Sign in"}),
        ("Signed in as ${email}.", {"mapping": {"email": "a@example.com"}}),
        ("Signed in as ${email}.", {"mapping": {"email": "b@example.com"}}),
        ("Not in the catalogue", {}),
        ("Left ${n}", {"mapping": {"n": 3}}),
        (TranslationString("Signed in as ${email}.", domain="app", mapping={"email": "c@x"}), {}),
    ]
    for msgid, keywords in calls * 2:  # the second time from the cache
        # Templates name their domain (i18n:domain="app").
        keywords = {"domain": "app", **keywords}
        assert cached(msgid, **keywords) == pyramid_hook(msgid, **keywords)
    assert cached("Signed in as ${email}.", mapping={"email": "a@x"}) == "Angemeldet als a@x."


def test_the_page_translator_looks_each_message_up_once(tmp_path):
    localizer = _localizer(tmp_path)
    looked_up = []
    original = localizer.translate

    def counting(tstring, *args, **kwargs):
        looked_up.append(str(tstring))
        return original(tstring, *args, **kwargs)

    localizer.translate = counting
    cached = CachedTranslator(localizer)
    for n in range(50):
        cached("Sign in")
        cached("Signed in as ${email}.", mapping={"email": f"user{n}@example.com"})
    assert looked_up == ["Sign in", "Signed in as ${email}."]


def test_chameleons_empty_default_marker_is_handed_back_as_it_came(tmp_path):
    class Marker(str):
        pass

    marker = Marker("")
    cached = CachedTranslator(_localizer(tmp_path))
    assert cached("Unknown text", default=marker) is marker


def test_numbers_in_plural_texts_are_written_as_the_language_writes_them():
    from app.i18n import Formats, translation_directory

    def formats(locale):
        return Formats(locale, make_localizer(locale, [str(translation_directory())]))

    one, many = "${n} recovery code left.", "${n} recovery codes left."
    assert formats("en").ngettext(one, many, 1234) == "1,234 recovery codes left."
    assert "1.234 Wiederherstellungscodes" in formats("de").ngettext(one, many, 1234)
    assert "1 Wiederherstellungscode " in formats("de").ngettext(one, many, 1)
