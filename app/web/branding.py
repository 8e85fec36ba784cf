"""The shop's name, logo and colour on every page (app/settings/branding.py): the layout
reads request.registry["brand"]; the logo and a small stylesheet of the colour are served
from this origin (the pages' Content-Security-Policy allows nothing else), read and made
once at start-up."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response

from app.settings import AppSettings
from app.settings.branding import LOGO_TYPES

# A week: each file's address carries a digest of its content, so a new one is a new URL.
CACHE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Brand:
    site_name: str
    logo: bytes = b""
    logo_type: str = ""
    theme_css: bytes = b""

    @property
    def logo_path(self) -> str:
        return f"/brand/logo?v={_digest(self.logo)}"

    @property
    def theme_path(self) -> str:
        return f"/brand/theme.css?v={_digest(self.theme_css)}"


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:12]


def _relative_luminance(color: str) -> float:
    """WCAG 2's relative luminance of a #rrggbb colour."""
    channels = []
    for start in (1, 3, 5):
        value = int(color[start : start + 2], 16) / 255
        channels.append(value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(one: str, other: str) -> float:
    """WCAG 2's contrast ratio of two #rrggbb colours (1 to 21)."""
    lighter, darker = sorted((_relative_luminance(one), _relative_luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def theme_css(color: str) -> bytes:
    """The stylesheet of the shop's colour: buttons in it, with white or near-black text,
    whichever reads better on it; links in it only where it reads on the page (4.5:1 on
    white, and on the dark scheme's page), else in our own colour."""
    ink = "#ffffff" if contrast(color, "#ffffff") >= contrast(color, "#111827") else "#111827"
    rules = [f":root {{ --button: {color}; --button-ink: {ink}; }}"]
    if contrast(color, "#ffffff") >= 4.5:
        rules.append(
            "@media not all and (prefers-color-scheme: dark) {"
            f" :root {{ --brand: {color}; --brand-dark: {color}; }} }}"
        )
    if contrast(color, "#111827") >= 4.5:
        rules.append(
            "@media (prefers-color-scheme: dark) {"
            f" :root {{ --brand: {color}; --brand-dark: {color}; }} }}"
        )
    return ("\n".join(rules) + "\n").encode("ascii")


def make_brand(settings: AppSettings) -> Brand:
    brand = settings.brand
    logo, logo_type = b"", ""
    if brand.logo:
        path = Path(brand.logo)
        logo, logo_type = path.read_bytes(), LOGO_TYPES[path.suffix.lower()]
    css = theme_css(brand.color) if brand.color else b""
    return Brand(site_name=brand.site_name, logo=logo, logo_type=logo_type, theme_css=css)


def _cached(response: Response) -> Response:
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def logo(request: Request) -> Response:
    brand: Brand = request.registry["brand"]
    if not brand.logo:
        return Response(status=404)
    return _cached(Response(body=brand.logo, content_type=brand.logo_type))


def theme(request: Request) -> Response:
    brand: Brand = request.registry["brand"]
    if not brand.theme_css:
        return Response(status=404)
    return _cached(Response(body=brand.theme_css, content_type="text/css", charset="utf-8"))


def includeme(config: Configurator) -> None:
    config.registry["brand"] = make_brand(config.registry["app_settings"])
    config.add_route("brand.logo", "/brand/logo")
    config.add_route("brand.theme", "/brand/theme.css")
    config.add_view(logo, route_name="brand.logo", request_method="GET")
    config.add_view(theme, route_name="brand.theme", request_method="GET")
