"""The other providers people may sign in with (Google, Apple, Microsoft, GitLab, another
instance of this app, GitHub), read with every other setting into AppSettings.

    signin.providers = google github
    signin.provider.google.issuer = https://accounts.google.com
    signin.provider.google.client_id = ...
    signin.provider.google.client_secret = ...   (or SIGNIN_PROVIDER_GOOGLE_CLIENT_SECRET)
    signin.provider.google.label = Google
    signin.provider.github.kind = github

A provider of kind `oidc` (the default) is found by OpenID Connect discovery from its
issuer; one of kind `github` speaks GitHub's OAuth and its API (whose addresses carry a
verified flag), at github.com unless `.issuer` names another host (GitHub Enterprise)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from app.settings.reader import SettingsError, SettingsReader

OIDC = "oidc"
GITHUB = "github"
KINDS = (OIDC, GITHUB)

GITHUB_ISSUER = "https://github.com"
GITHUB_API = "https://api.github.com"

# A provider's name is part of its routes (/account/signin/with/NAME) and settings.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,29}")


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


@dataclass(frozen=True)
class UpstreamProviderSettings:
    name: str
    kind: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    label: str
    # Whether this provider's word that its own sign-in used two factors (`amr` holding
    # "mfa") stands in for the account's second factor here.
    trust_amr: bool = False
    # GitHub's API, for a provider of kind github.
    api_url: str = GITHUB_API

    @classmethod
    def read(cls, read: SettingsReader, name: str) -> UpstreamProviderSettings:
        prefix = f"signin.provider.{name}."
        kind = read.choice(prefix + "kind", OIDC, KINDS)
        default_issuer = GITHUB_ISSUER if kind == GITHUB else ""
        # Compared exactly with what the provider says it is: some issuers end in "/".
        issuer = read.raw(prefix + "issuer") or default_issuer
        parts = urlsplit(issuer)
        if not parts.hostname or not (
            parts.scheme == "https" or (parts.scheme == "http" and is_loopback_url(issuer))
        ):
            raise SettingsError(
                f"Setting {prefix}issuer must be the provider's https address, such as"
                f" https://accounts.google.com, not {issuer!r}."
            )
        client_id = read.raw(prefix + "client_id") or ""
        variable = f"SIGNIN_PROVIDER_{name.upper().replace('-', '_')}_CLIENT_SECRET"
        client_secret = os.environ.get(variable) or read.raw(prefix + "client_secret") or ""
        if not client_id or not client_secret:
            raise SettingsError(
                f"Set {prefix}client_id and {prefix}client_secret (or {variable}): the"
                " provider gives both when this site is registered with it."
            )
        api_url = read.text(prefix + "api_url", GITHUB_API if issuer == GITHUB_ISSUER else "")
        if kind == GITHUB and not api_url:
            api_url = f"{issuer.rstrip('/')}/api/v3"
        if api_url and not (
            api_url.startswith("https://")
            or (api_url.startswith("http://") and is_loopback_url(api_url))
        ):
            raise SettingsError(
                f"Setting {prefix}api_url must be an https address, not {api_url!r}."
            )
        return cls(
            name=name,
            kind=kind,
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            label=read.text(prefix + "label", name.replace("_", " ").title()),
            trust_amr=read.flag(prefix + "trust_amr", False),
            api_url=api_url.rstrip("/"),
        )


def read_upstream_providers(read: SettingsReader) -> tuple[UpstreamProviderSettings, ...]:
    names = (read.raw("signin.providers") or "").replace(",", " ").split()
    for name in names:
        if not NAME_PATTERN.fullmatch(name):
            raise SettingsError(
                "Setting signin.providers lists names of lower-case letters, digits, _ and -,"
                f" starting with a letter (such as google), not {name!r}."
            )
    if len(set(names)) != len(names):
        raise SettingsError("Setting signin.providers names a provider twice.")
    return tuple(UpstreamProviderSettings.read(read, name) for name in names)
