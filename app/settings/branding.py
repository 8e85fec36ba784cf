"""The shop's name, logo and colour (docs in README "Configuration"), read with every
other setting into AppSettings:

    app.site_name = Corner Shop          (pages, titles, emails, authenticator apps)
    app.logo = /srv/shop/logo.svg        (served by the app itself, from this origin)
    app.brand_color = #0f766e            (buttons and links; text on it stays readable)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from app.settings.reader import SettingsError, SettingsReader

MAX_SITE_NAME = 60
# A logo is a small picture; a larger file is refused at start-up.
MAX_LOGO_BYTES = 256 * 1024
LOGO_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}
COLOR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class BrandSettings:
    site_name: str = "Accounts"
    # The logo file's path ("": none), and the colour of buttons and links ("": ours).
    logo: str = ""
    color: str = ""


def read_brand(read: SettingsReader) -> BrandSettings:
    name = " ".join(read.text("app.site_name", "Accounts").split())
    if not name or len(name) > MAX_SITE_NAME or any(not ch.isprintable() for ch in name):
        raise SettingsError(
            f"Setting app.site_name must be 1 to {MAX_SITE_NAME} printable characters."
        )
    logo = read.text("app.logo", "")
    if logo:
        path = Path(logo)
        if path.suffix.lower() not in LOGO_TYPES:
            raise SettingsError(
                f"Setting app.logo must name an .svg, .png, .jpg or .webp file, not {logo!r}."
            )
        if not path.is_file():
            raise SettingsError(f"Setting app.logo names no file: {logo!r}.")
        if path.stat().st_size > MAX_LOGO_BYTES:
            raise SettingsError(f"Setting app.logo must be at most {MAX_LOGO_BYTES} bytes.")
    color = read.text("app.brand_color", "")
    if color and not COLOR.fullmatch(color):
        raise SettingsError(
            f"Setting app.brand_color must be a colour like #0f766e, not {color!r}."
        )
    return BrandSettings(site_name=name, logo=logo, color=color.lower())
