"""Security headers on every response, added by the outermost tween.

A tween rather than a NewResponse subscriber: with no subscribers registered, Pyramid
skips its five per-request event notifications altogether."""

from __future__ import annotations

from collections.abc import Callable

from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import INGRESS

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; object-src 'none'; "
    "base-uri 'none'"
)
# Where a page's forms may lead beyond this site (request.environ[FORM_TARGETS], a set of
# origins): browsers hold every redirect after a form's POST to form-action, so the
# sign-in, second-factor, consent and sign-out pages of an application's request name
# that application's registered origin (app/controllers/oidc_documents.py).
FORM_TARGETS = "app.form_targets"


def policy_with_form_targets(origins: set[str]) -> str:
    extra = "".join(f" {origin}" for origin in sorted(origins))
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self'{extra}")


HSTS = "max-age=31536000; includeSubDomains"
PUBLIC_DOCUMENTS = frozenset({"/.well-known/openid-configuration", "/oidc/jwks"})


def security_headers(secure: bool) -> list[tuple[str, str]]:
    headers = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ]
    if secure:
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


def security_headers_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    common = security_headers(registry["app_settings"].secure_cookies)
    # Account pages show personal data and forms with one-time state; only the static
    # files (CSS) may be cached.
    pages = [*common, ("Cache-Control", "no-store")]
    # Static files keep the Cache-Control of the static view (max-age).
    static = (common, {name.lower() for name, _ in common})
    page = (pages, {name.lower() for name, _ in pages})

    def security_headers_tween(request: Request) -> Response:
        response = handler(request)
        # Only a static file that was found may be cached; anything else under /static/
        # (a 404 page shows who is signed in) is no-store like every page. The raw
        # PATH_INFO: request.path_info would fail to decode a malformed path.
        path = request.environ.get("PATH_INFO", "")
        # The provider's discovery and JWKS documents are the same for everyone, and
        # clients are meant to cache them (their views set the max-age).
        is_static = response.status_code < 400 and (
            path.startswith(("/static/", "/brand/")) or path in PUBLIC_DOCUMENTS
        )
        added, names = static if is_static else page
        headerlist = response.headerlist
        if any(name.lower() in names for name, _ in headerlist):
            # Rare: a response that set one of these already; ours replace it.
            headerlist[:] = [(n, v) for n, v in headerlist if n.lower() not in names]
        targets = request.environ.get(FORM_TARGETS)
        if targets:
            policy = policy_with_form_targets(targets)
            added = [(n, policy if n == "Content-Security-Policy" else v) for n, v in added]
        headerlist.extend(added)
        return response

    return security_headers_tween


def includeme(config: Configurator) -> None:
    config.add_tween("app.web.headers.security_headers_tween_factory", under=INGRESS)
