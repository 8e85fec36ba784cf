"""The shop's name, logo and colour (app.site_name, app.logo, app.brand_color) on every
page, title and email and in authenticator apps; served from this origin; a colour whose
text would not read is paired with text that does; wrong settings stop the start."""

from __future__ import annotations

import pytest

from app.web.branding import contrast, theme_css
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, deliver_mail, forgot_password, sign_in

LOGO = b'<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"><circle r="9"/></svg>'


@pytest.fixture
def shop(make_app, app_settings, tmp_path):
    logo = tmp_path / "logo.svg"
    logo.write_bytes(LOGO)
    return make_app(
        {
            **app_settings,
            "app.site_name": "  Corner   Shop ",
            "app.logo": str(logo),
            "app.brand_color": "#0F766E",
        }
    )


def test_an_unbranded_site_calls_itself_accounts_and_speaks_to_customers(wsgi_app):
    page = new_client(wsgi_app).get("/account/signin")
    assert page.html.title.text == "Sign in · Accounts"
    assert page.html.find(class_="brand").text.strip() == "Accounts"
    footer = page.html.find("footer").get_text(" ", strip=True)
    assert "Questions about your account? Contact the site's administrator." in footer
    assert "argon2id" not in page.text
    assert page.html.find("img", class_="brand-logo") is None
    assert page.html.find("link", href=lambda href: href and "theme.css" in href) is None
    new_client(wsgi_app).get("/brand/logo", status=404)
    new_client(wsgi_app).get("/brand/theme.css", status=404)


def test_the_shops_name_logo_and_colour_are_on_every_page(shop):
    page = new_client(shop).get("/account/signin")
    assert page.html.title.text == "Sign in · Corner Shop"
    brand = page.html.find(class_="brand")
    assert brand.get_text(strip=True) == "Corner Shop"
    logo_path = brand.find("img")["src"]
    assert logo_path.startswith("/brand/logo?v=") and brand.find("img")["alt"] == ""
    logo = new_client(shop).get(logo_path)
    assert logo.body == LOGO and logo.content_type == "image/svg+xml"
    assert "max-age=604800" in logo.headers["Cache-Control"]
    assert logo.headers["X-Content-Type-Options"] == "nosniff"
    [theme] = page.html.find_all("link", href=lambda href: href and "theme.css" in href)
    css = new_client(shop).get(theme["href"])
    assert css.content_type == "text/css" and "--button: #0f766e" in css.text


def test_the_shops_name_is_in_emails_and_authenticator_apps(shop, smtp_server):
    create_account(shop, "alice@example.com", STRONG_PASSWORD)
    forgot_password(new_client(shop), "alice@example.com")
    deliver_mail(shop)
    [reset] = smtp_server.mailbox.to("alice@example.com")
    assert "Corner Shop account" in reset.text
    client = new_client(shop)
    sign_in(client, "alice@example.com", STRONG_PASSWORD)
    page = client.get("/account/two_factor/totp")
    assert "issuer=Corner%20Shop" in page.text or "issuer=Corner+Shop" in page.text


@pytest.mark.parametrize(
    ("color", "ink"), [("#fde047", "#111827"), ("#0f766e", "#ffffff"), ("#1d4ed8", "#ffffff")]
)
def test_text_on_the_shops_colour_always_reads(color, ink):
    css = theme_css(color).decode()
    assert f"--button-ink: {ink}" in css
    assert contrast(color, ink) >= 4.5
    # Links take the colour only in the scheme whose page it reads on (4.5:1).
    schemes = {
        block.split("{")[0].strip(): f"--brand: {color}" in block
        for block in css.split("@media ")[1:]
    }
    light = schemes.get("not all and (prefers-color-scheme: dark)", False)
    dark = schemes.get("(prefers-color-scheme: dark)", False)
    assert light == (contrast(color, "#ffffff") >= 4.5)
    assert dark == (contrast(color, "#111827") >= 4.5)


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("app.site_name", "x" * 61, "app.site_name"),
        ("app.site_name", "Shop\x07", "app.site_name"),
        ("app.logo", "/nonexistent/logo.svg", "names no file"),
        ("app.logo", "/etc/hostname", "must name an .svg"),
        ("app.brand_color", "teal", "#0f766e"),
        ("app.brand_color", "#12345", "#0f766e"),
    ],
)
def test_wrong_brand_settings_stop_the_start_with_the_reason(
    make_app, app_settings, key, value, says
):
    with pytest.raises(SystemExit) as stopped:
        make_app({**app_settings, key: value})
    assert says in str(stopped.value)
