"""docs/security.md 52: behind a reverse proxy that does not pass the public Host on,
forms still work, because the CSRF origin check follows app.base_url; a form from
another site gets the app's own 400 page."""

from __future__ import annotations

import pytest

from tests.conftest import BASE_URL, STRONG_PASSWORD, new_client
from tests.functional.flows import create_account
from tests.support import form_by_action


@pytest.fixture
def proxied(wsgi_app):
    """A client as the app sees it behind a proxy: HTTPS, with the proxy's own Host."""
    create_account(wsgi_app, "alice@example.com", STRONG_PASSWORD)
    client = new_client(wsgi_app)
    client.extra_environ.update({"wsgi.url_scheme": "https", "HTTP_HOST": "127.0.0.1:6543"})
    return client


def _sign_in(client, origin: str, status):
    form = form_by_action(client.get("/account/signin"), "/account/signin")
    form["email"] = "alice@example.com"
    form["password"] = STRONG_PASSWORD
    return form.submit(headers={"Origin": origin}, status=status)


def test_a_form_from_the_public_address_is_accepted_whatever_host_the_proxy_sends(proxied):
    _sign_in(proxied, BASE_URL, status=303)


def test_a_form_from_another_site_gets_the_apps_own_page(proxied):
    refused = _sign_in(proxied, "https://evil.test", status=400)
    assert "The form came from another site" in refused.text
    assert refused.headers["Cache-Control"] == "no-store"
