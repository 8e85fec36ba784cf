"""Translations: every message translated in every catalogue, every text of every page a
message, the visitor's language chosen as the README says, and emails in the
recipient's language."""

from __future__ import annotations

import gettext
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup, Comment, Doctype
from pyramid.i18n import Localizer
from pyramid.interfaces import ILocalizer
from sqlalchemy import select

import app.i18n
from app.i18n import DOMAIN, LANGUAGES, LOCALE_DIR
from app.models import Account
from app.scripts.translations import untranslated
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import (
    create_account,
    db,
    deliver_mail,
    forgot_password,
    open_link,
    sign_in,
)

ROOT = Path(__file__).resolve().parents[2]
ALICE = "alice@example.com"


def _catalogue(locale: str):
    with (LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po:
        return read_po(po, locale=locale, domain=DOMAIN)


def _msgstr(locale: str, msgid: str) -> str:
    message = _catalogue(locale).get(msgid)
    assert message is not None and message.string, (locale, msgid)
    return message.string


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str]:
    """The messages lingua finds in the code and templates now."""
    if "MUTANT_UNDER_TEST" in os.environ:
        # mutmut rewrites every function of the copy it tests into its variants, which
        # lingua cannot read; the extraction checks the sources, not their behaviour.
        pytest.skip("the sources are mutmut's rewritten copies")
    pot = tmp_path_factory.mktemp("pot") / "app.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pot-create"),
            "-c",
            "lingua.cfg",
            "-d",
            DOMAIN,
            "-o",
            str(pot),
            "app",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as template:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(template) if m.id}


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_message_has_a_translation_in_every_catalogue(extracted, locale):
    catalogue = _catalogue(locale)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id}
    assert extracted - ids == set(), "run `make translations` and translate the new messages"
    assert untranslated(catalogue) == []


@pytest.mark.parametrize("locale", [locale for locale in LANGUAGES if locale != "en"])
def test_a_translated_catalogue_is_not_english_copied_over(locale):
    """Only a few messages read the same in another language ("${before} ${after}",
    "Administration"); a catalogue filled with its English ids is no translation."""
    messages = [m for m in _catalogue(locale) if m.id]
    same = [m.id for m in messages if m.string == m.id]
    assert len(same) <= len(messages) // 50, same


# Every text a page shows is a message: rendered in a pseudo-language that marks each
# translated text, nothing unmarked is left but data (addresses, numbers, names).

PSEUDO = "eo"


class _Marked(gettext.NullTranslations):
    def gettext(self, message):
        return f"⟦{message}⟧"

    def ngettext(self, singular, plural, n):
        return f"⟦{singular if n == 1 else plural}⟧"

    def dugettext(self, domain, message):
        return self.gettext(message)

    def dungettext(self, domain, singular, plural, n):
        return self.ngettext(singular, plural, n)


# Text that is data, not wording: the product's name, the languages' own names, addresses,
# numbers, dates and times, device names.
DATA = [
    r"⟦[^⟧]*⟧",
    r"Accounts",
    *[re.escape(name) for name in LANGUAGES.values()],
    r"[\w.+-]+@[\w.-]+",
    r"\b\d{1,3}(\.\d{1,3}){3}\b",
    r"HeadlessChrome [\d.]+ on Linux|Firefox \d+ on Linux",
    r"\bUTC\b",
    r"[\d\s.,:/()#&·•…←→\-–—%|*@⚠✉]+",
]


def _unmarked(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style", "svg", "code"]):
        hidden.decompose()
    # The page's text as one string: a sentence with a link or a value inside it spans
    # several nodes, and a translated value sits inside its sentence's brackets.
    text = "\n".join(
        str(s) for s in soup.find_all(string=True) if not isinstance(s, (Doctype, Comment))
    )
    while True:
        text, found = re.subn(r"⟦[^⟦⟧]*⟧", " ", text)
        if not found:
            break
    texts: list[str | None] = text.split("\n")
    for element in soup.find_all(True):
        texts += [element.get(a) for a in ("aria-label", "placeholder", "title", "alt")]
        texts += [
            v
            for k, v in element.attrs.items()
            if k.startswith("data-")
            and k.endswith(("label", "waiting", "cancelled", "exists", "site", "failed"))
        ]
    leftovers = []
    for text in texts:
        if not text:
            continue
        rest = str(text)
        for pattern in DATA:
            rest = re.sub(pattern, " ", rest)
        # Babel's month names of the pseudo-language, in dates.
        rest = re.sub(r"\b\w{3,4}\b\.?", _without_month, rest)
        if rest.strip():
            leftovers.append(str(text).strip())
    return leftovers


def _without_month(match: re.Match) -> str:
    return "" if match.group(0).rstrip(".").lower() in MONTHS else match.group(0)


MONTHS = {"jan", "feb", "mar", "apr", "maj", "jun", "jul", "aŭg", "sep", "okt", "nov", "dec"}


@pytest.fixture
def pseudo_app(wsgi_app, monkeypatch):
    monkeypatch.setitem(app.i18n.LANGUAGES, PSEUDO, "Pseudo")
    wsgi_app.registry.registerUtility(Localizer(PSEUDO, _Marked()), ILocalizer, name=PSEUDO)
    return wsgi_app


def _pseudo_client(wsgi_app):
    client = new_client(wsgi_app)
    client.set_cookie("locale", PSEUDO)
    return client


ANONYMOUS = [
    "/",
    "/account/signin",
    "/account/register",
    "/account/forgot_password",
    "/account/reset_sent",
    "/no/such/page",
]
SIGNED_IN = [
    "/account",
    "/account/change_password",
    "/account/change_email",
    "/account/two_factor",
    "/account/two_factor/totp",
    "/account/passkeys",
    "/account/reauthenticate",
    "/account/sessions",
    "/account/activity",
    "/admin/accounts",
    "/admin/accounts/new",
    "/admin/accounts/1",
    "/admin/accounts/1/disable",
]


def test_every_text_of_every_page_is_a_message(pseudo_app):
    create_account(pseudo_app, ALICE, STRONG_PASSWORD)
    create_account(pseudo_app, "bob@example.com", STRONG_PASSWORD)
    with db(pseudo_app) as session, session.begin():
        session.scalars(select(Account).where(Account.email == ALICE)).one().is_admin = True
    anonymous = _pseudo_client(pseudo_app)
    pages = {url: anonymous.get(url, status="*").text for url in ANONYMOUS}
    # A form with its errors, and a refused sign-in.
    pages["register errors"] = anonymous.post(
        "/account/register",
        {
            "csrf_token": anonymous.get("/account/register").html.find(
                "input", attrs={"name": "csrf_token"}
            )["value"]
        },
        status=400,
    ).text
    pages["sign-in refused"] = sign_in(anonymous, ALICE, "a wrong password here", status=400).text
    member = _pseudo_client(pseudo_app)
    sign_in(member, ALICE, STRONG_PASSWORD)
    for url in SIGNED_IN:
        pages[url] = member.get(url.replace("/1", "/2")).text
    leftovers = {url: _unmarked(html) for url, html in pages.items()}
    assert {url: texts for url, texts in leftovers.items() if texts} == {}


# Choosing the language


@pytest.mark.parametrize(
    "header, expected",
    [
        ("de-DE,de;q=0.9,en;q=0.5", "de"),
        ("fr-CH, fr;q=0.9", "fr"),
        ("es", "es"),
        ("pt-BR", "en"),
        ("", "en"),
    ],
)
def test_the_browsers_language_is_used_when_none_was_chosen(wsgi_app, header, expected):
    client = new_client(wsgi_app)
    page = client.get("/account/signin", headers={"Accept-Language": header} if header else {})
    assert page.html.find("html")["lang"] == expected
    title = page.html.find("h1").text.strip()
    assert title == (_msgstr(expected, "Sign in") if expected != "en" else "Sign in")


@pytest.mark.parametrize("locale", LANGUAGES)
@pytest.mark.parametrize(
    "url", ["/account/signin", "/account/register", "/account/forgot_password"]
)
def test_the_main_pages_render_in_every_language(wsgi_app, locale, url):
    page = new_client(wsgi_app).get(url, headers={"Accept-Language": locale})
    assert page.html.find("html")["lang"] == locale
    button = page.html.find("button", type="submit", class_="button")
    assert button.text.strip()
    if locale != "en":
        english = button.text.strip()
        assert (
            english
            != {
                "/account/signin": "Sign in",
                "/account/register": "Create account",
                "/account/forgot_password": "Send the link",
            }[url]
        )


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_reset_form_and_the_account_page_render_in_every_language(
    wsgi_app, smtp_server, locale
):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    client.extra_environ["HTTP_ACCEPT_LANGUAGE"] = locale
    forgot_password(client, ALICE)
    deliver_mail(wsgi_app)
    open_link(client, smtp_server.mailbox.to(ALICE)[0].link_code)
    form = client.get("/account/reset_password")
    assert form.html.find("html")["lang"] == locale
    assert form.html.find("h1").text.strip() == _msgstr(locale, "Choose a new password")
    sign_in(client, ALICE, STRONG_PASSWORD)
    account = client.get("/account")
    assert account.html.find("html")["lang"] == locale
    assert account.html.find("h1").text.strip() == _msgstr(locale, "Your account")


def test_the_language_menu_wins_over_the_browser_and_is_kept_on_the_account(wsgi_app):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    client = new_client(wsgi_app)
    client.extra_environ["HTTP_ACCEPT_LANGUAGE"] = "de"
    sign_in(client, ALICE, STRONG_PASSWORD)
    chosen = client.post("/language", {"locale": "fr", "came_from": "/account"}, status=303)
    assert chosen.location.endswith("/account")
    assert "locale=fr" in chosen.headers["Set-Cookie"]
    assert client.get("/account").html.find("html")["lang"] == "fr"
    with db(wsgi_app) as session:
        assert session.scalars(select(Account.locale)).one() == "fr"
    # Another browser, with no choice of its own: the account's.
    other = new_client(wsgi_app)
    other.extra_environ["HTTP_ACCEPT_LANGUAGE"] = "es"
    sign_in(other, ALICE, STRONG_PASSWORD)
    assert other.get("/account").html.find("html")["lang"] == "fr"
    # Odd values change nothing, and lead only to this site.
    odd = client.post("/language", {"locale": "xx", "came_from": "https://evil.test/"})
    assert urlsafe(odd.location)
    assert client.get("/account").html.find("html")["lang"] == "fr"


def urlsafe(location: str) -> bool:
    return location.startswith("https://accounts.example.test/")


def test_a_reset_email_goes_out_in_the_accounts_language(wsgi_app, smtp_server):
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    with db(wsgi_app) as session, session.begin():
        session.scalars(select(Account)).one().locale = "de"
    # Asked from an English browser: the email is in the account's language.
    forgot_password(new_client(wsgi_app), ALICE)
    deliver_mail(wsgi_app)
    (mail,) = smtp_server.mailbox.to(ALICE)
    assert mail.message["Subject"] == _msgstr("de", "Reset your password")
    assert 'lang="de"' in mail.html
    assert mail.link_code
    assert "Someone asked to reset" not in mail.text


def test_an_email_to_someone_without_a_language_follows_the_request(wsgi_app, smtp_server):
    client = new_client(wsgi_app)
    client.extra_environ["HTTP_ACCEPT_LANGUAGE"] = "es"
    from tests.functional.flows import register

    register(client, ALICE, STRONG_PASSWORD)
    deliver_mail(wsgi_app)
    (mail,) = smtp_server.mailbox.to(ALICE)
    assert mail.message["Subject"] == _msgstr("es", "Confirm your email address")


def test_an_account_keeps_the_language_it_signed_in_with_for_its_emails(wsgi_app, smtp_server):
    """Mail about an account follows its owner's language, not that of whoever asked
    for it: a stranger asking for a reset in German gets the owner a Spanish email."""
    create_account(wsgi_app, ALICE, STRONG_PASSWORD)
    owner = new_client(wsgi_app)
    owner.extra_environ["HTTP_ACCEPT_LANGUAGE"] = "es"
    sign_in(owner, ALICE, STRONG_PASSWORD)
    with db(wsgi_app) as session:
        assert session.scalars(select(Account.locale)).one() == "es"
    stranger = new_client(wsgi_app)
    stranger.extra_environ["HTTP_ACCEPT_LANGUAGE"] = "de"
    forgot_password(stranger, ALICE)
    deliver_mail(wsgi_app)
    [mail] = smtp_server.mailbox.to(ALICE)
    assert mail.message["Subject"] == _msgstr("es", "Reset your password")


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_translation_brings_no_markup_or_quote_its_english_lacks(locale):
    """Chameleon puts translated texts into the page as they are (attributes included):
    a translation may not add a character that HTML reads as markup."""
    for message in _catalogue(locale):
        if not message.id:
            continue
        english = "".join(message.id if isinstance(message.id, tuple) else (message.id,))
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in forms:
            for character in '<>"&':
                assert text.count(character) <= english.count(character), (message.id, text)
