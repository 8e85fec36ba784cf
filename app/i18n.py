"""Languages: English, German, French and Spanish, with Pyramid's i18n machinery.

Every text people read is a translation string of the "app" domain: `_()` in Python,
`i18n:translate` in templates. The catalogues are app/locale/<lang>/LC_MESSAGES/app.po
(`make translations` extracts with lingua and updates them); they are compiled to .mo
when the app starts, if the .mo is missing or older, so a fresh clone needs no step.

The locale of a request: the visitor's explicit choice (the `locale` cookie the
language menu sets), else the signed-in account's stored choice, else the browser's
Accept-Language, else pyramid.default_locale_name."""

from __future__ import annotations

import functools
import logging
import tempfile
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from pyramid.config import Configurator
from pyramid.i18n import Localizer, TranslationString, make_localizer
from pyramid.request import Request
from translationstring import ChameleonTranslate
from webob.acceptparse import create_accept_language_header

from app.translation import DOMAIN

log = logging.getLogger(__name__)

# The languages shipped, each named in itself for the language menu.
LANGUAGES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español"}
DEFAULT_LOCALE = "en"
LOCALE_COOKIE = "locale"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def colon(locale: str) -> str:
    """The colon that ends a label ("When:"), as the language writes it."""
    return "\u202f:" if locale == "fr" else ":"


def supported(locale: str | None) -> str | None:
    """The shipped locale this names ("de", "de-AT", "de_CH" are German), or None."""
    # Type first: a file uploaded in its place cannot even be tested for truth.
    if not isinstance(locale, str) or not locale or len(locale) > 20:
        return None
    language = locale.replace("_", "-").split("-", 1)[0].lower()
    return language if language in LANGUAGES else None


def negotiate_locale(request: Request) -> str:
    if not supported(request.cookies.get(LOCALE_COOKIE)):
        identity = request.identity
        stored = supported(getattr(identity, "locale", None)) if identity is not None else None
        if stored:
            return stored
    return locale_without_account(request)


def locale_without_account(request: Request) -> str:
    """The locale from the visitor's choice and browser alone, for pages that must not
    read the database (the 503 page while it is down)."""
    chosen = supported(request.cookies.get(LOCALE_COOKIE))
    if chosen:
        return chosen
    default = request.registry.settings.get("pyramid.default_locale_name") or DEFAULT_LOCALE
    header = request.headers.get("Accept-Language")
    if header and len(header) <= MAX_CACHED_HEADER:
        return _browser_locale(header, default)
    if header:
        return _best_of(create_accept_language_header(header), default)
    return supported(default) or DEFAULT_LOCALE


# Browsers send a handful of distinct Accept-Language headers; each is parsed once.
MAX_CACHED_HEADER = 200


@functools.lru_cache(maxsize=512)
def _browser_locale(header: str, default: str) -> str:
    return _best_of(create_accept_language_header(header), default)


def _best_of(accepted: Any, default: str) -> str:
    if not accepted:
        return supported(default) or DEFAULT_LOCALE
    best = accepted.lookup(list(LANGUAGES), default=default)
    return supported(best) or supported(default) or DEFAULT_LOCALE


@functools.cache
def translation_directory() -> Path:
    """Where this process loads translations from (compiled once per process)."""
    return compile_catalogues()


def localizer_for(locale: str, directories: Iterable[str]) -> Localizer:
    """Pyramid's localizer of a locale, for code that may not import Pyramid itself
    (the services: tests/test_layout.py)."""
    return make_localizer(locale, list(directories))


class CachedTranslator:
    """Chameleon's translate hook for one locale, for pages and emails. Each message of a
    template is looked up in the catalogue once per process; later renderings only fill
    in its values. (Pyramid's own hook finds the request, its localizer and a new translation
    string for every message of every page.)"""

    MAX_MESSAGES = 10_000

    def __init__(self, localizer: Localizer) -> None:
        self.localizer = localizer
        self._texts: dict[tuple[str, str, str | None, Any], str] = {}
        self._plurals: dict[tuple[str, str, int], str] = {}

    def __call__(
        self,
        msgid: Any,
        domain: str | None = None,
        mapping: dict[str, Any] | None = None,
        context: Any = None,
        target_language: str | None = None,
        default: str | None = None,
    ) -> Any:
        if type(msgid) is not str or (
            default is not None and (type(default) is not str or not default)
        ):
            # Translation strings carry their own values, and Chameleon compares an
            # empty default by identity: the general path keeps both right.
            return _pyramid_translate(self.localizer)(
                msgid, domain, mapping, context, target_language, default
            )
        key = (msgid, domain or DOMAIN, default, context)
        text = self._texts.get(key)
        if text is None:
            text = str(
                self.localizer.translate(
                    TranslationString(msgid, domain=key[1], default=default, context=context)
                )
            )
            if len(self._texts) < self.MAX_MESSAGES:
                self._texts[key] = text
        if mapping:
            return TranslationString(msgid, mapping=mapping).interpolate(text)
        return text

    # Counts below this are kept with their text; a text depends on the count only
    # through the language's plural rule, but that rule is the catalogue's to apply.
    CACHED_COUNTS = 1000

    def plural(self, singular: str, plural: str, n: int) -> str:
        """The catalogue's text for the count n, its values not filled in."""
        key = (singular, plural, n)
        text = self._plurals.get(key)
        if text is None:
            text = str(self.localizer.pluralize(singular, plural, n, domain=DOMAIN))
            if 0 <= n < self.CACHED_COUNTS and len(self._plurals) < self.MAX_MESSAGES:
                self._plurals[key] = text
        return text


def _pyramid_translate(localizer: Localizer) -> Callable[..., Any]:
    return ChameleonTranslate(localizer.translate)


def page_translator(request: Request) -> CachedTranslator:
    """The translate hook for the request's locale, made once per locale and process."""
    localizer = request.localizer
    translators: dict[str, CachedTranslator] = request.registry["page_translators"]
    translator = translators.get(localizer.locale_name)
    if translator is None or translator.localizer is not localizer:
        translator = translators[localizer.locale_name] = CachedTranslator(localizer)
    return translator


def compile_catalogues(source: Path = LOCALE_DIR) -> Path:
    """The directory to load translations from, with every .po compiled to .mo. Where
    the package cannot be written to (an installed, read-only copy), the compiled
    catalogues go to a directory of their own."""
    target = source
    try:
        _compile_into(source, source)
    except OSError:
        target = Path(tempfile.mkdtemp(prefix="app-locale-"))
        _compile_into(source, target)
    missing = [
        locale
        for locale in LANGUAGES
        if locale != DEFAULT_LOCALE
        and not (target / locale / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file()
    ]
    if missing:
        # An install without its catalogues would show every page in English.
        log.error("No catalogue for %s in %s: those pages stay English", missing, source)
    return target


def _compile_into(source: Path, target: Path) -> None:
    for po in sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as po_file:
            catalog = read_po(po_file, locale=po.parts[-3], domain=DOMAIN)
        partial = mo.with_suffix(".mo.partial")
        with partial.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        partial.replace(mo)
        log.info("Compiled the %s translations", po.parts[-3])


@functools.cache
def _babel_locale(locale: str) -> Locale:
    """Babel's data of a locale, parsed once (Babel parses a locale named by a string
    on every call, a tenfold cost for a date)."""
    return Locale.parse(locale)


class Formats:
    """Dates, times and plurals in one locale, for templates and emails."""

    def __init__(
        self, locale: str, localizer: Localizer, plurals: CachedTranslator | None = None
    ) -> None:
        self.locale = locale
        self.localizer = localizer
        # Where the plural texts of this locale are kept once looked up: the locale's
        # shared translator, or one of its own.
        self.plurals = plurals or CachedTranslator(localizer)

    def when(self, value: datetime) -> str:
        """'Nov 30, 2026, 8:31 AM UTC' (or '30.11.2026, 08:31 UTC') in the locale's
        own order and words."""
        day = format_date(value, format="medium", locale=_babel_locale(self.locale))
        time = format_time(value, format="short", locale=_babel_locale(self.locale))
        return f"{day}, {time} UTC"

    def day(self, value: datetime) -> str:
        return format_date(value, format="medium", locale=_babel_locale(self.locale))

    def ngettext(self, singular: str, plural: str, n: int, **mapping: Any) -> str:
        """A translated text with a number in it, in the form the language uses for
        that number (${n} is the number)."""
        text = self.plurals.plural(singular, plural, n)
        # "1,234", "1.234", "1 234"; below a thousand every shipped language writes the
        # digits alone, and Babel's formatting is the dearest part of the call.
        number = str(n)
        if not -1000 < n < 1000:
            number = format_decimal(n, locale=_babel_locale(self.locale))
        return TranslationString(text, mapping={"n": number, **mapping}).interpolate(text)

    def translate(self, message: str) -> str:
        return translate_with(self.localizer, message)


def translated(request: Request, message: str) -> str:
    """A message translated for the request, as a plain string (a form's error, a flash
    message, a JSON answer). Values of its mapping that are translation strings
    themselves are translated first."""
    return translate_with(request.localizer, message)


def translate_with(localizer: Localizer, message: str) -> str:
    if not isinstance(message, TranslationString):
        return str(message)
    tstring: TranslationString = message
    mapping = tstring.mapping or {}
    if any(isinstance(v, TranslationString) for v in mapping.values()):
        translated_mapping = {k: translate_with(localizer, v) for k, v in mapping.items()}
        tstring = TranslationString(tstring, mapping=translated_mapping)
    return str(localizer.translate(tstring, domain=tstring.domain or DOMAIN))


def includeme(config: Configurator) -> None:
    config.set_locale_negotiator(negotiate_locale)
    directory = translation_directory()
    config.registry["translation_dirs"] = [str(directory)]
    config.registry["page_translators"] = {}
    config.add_translation_dirs(str(directory))
    # The language menu, as (locale, name in itself) pairs.
    config.registry["languages"] = list(LANGUAGES.items())
