"""The providers people may sign in with (signin.providers): each read with its
settings, its secret from the environment when set there; a bad value stops start-up
with a sentence that names the setting."""

from __future__ import annotations

import pytest

from app.settings import AppSettings, SettingsError
from tests.conftest import BASE_URL, SECRET

REQUIRED = {"app.secret": SECRET, "app.base_url": BASE_URL}
GOOGLE = {
    "signin.providers": "google",
    "signin.provider.google.issuer": "https://accounts.google.com/",
    "signin.provider.google.client_id": "id-1",
    "signin.provider.google.client_secret": "secret-1",
}


def read(**settings: str) -> AppSettings:
    return AppSettings.from_settings({**REQUIRED, **settings})


def refusal(settings: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        read(**settings)
    return str(caught.value)


def test_no_providers_by_default():
    assert read().upstream_providers == ()


def test_an_oidc_provider_and_github_are_read_with_their_defaults(monkeypatch):
    monkeypatch.setenv("SIGNIN_PROVIDER_GIT_HUB_CLIENT_SECRET", "from-the-environment")
    settings = read(
        **{
            **GOOGLE,
            "signin.providers": "google git-hub",
            "signin.provider.google.label": "Google",
            "signin.provider.google.trust_amr": "true",
            "signin.provider.git-hub.kind": "github",
            "signin.provider.git-hub.client_id": "gh-id",
        },
    )
    google, github = settings.upstream_providers
    assert (google.name, google.kind, google.issuer, google.label) == (
        "google",
        "oidc",
        "https://accounts.google.com/",  # kept as written: compared exactly
        "Google",
    )
    assert google.trust_amr and google.client_secret == "secret-1"
    assert "secret-1" not in repr(google)
    assert (github.kind, github.issuer, github.api_url) == (
        "github",
        "https://github.com",
        "https://api.github.com",
    )
    assert github.client_secret == "from-the-environment" and github.label == "Git-Hub"
    assert not github.trust_amr


def test_github_enterprise_is_asked_at_its_own_api():
    settings = read(
        **{
            "signin.providers": "ghe",
            "signin.provider.ghe.kind": "github",
            "signin.provider.ghe.issuer": "https://git.example.com",
            "signin.provider.ghe.client_id": "id",
            "signin.provider.ghe.client_secret": "secret",
        }
    )
    assert settings.upstream_providers[0].api_url == "https://git.example.com/api/v3"


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"signin.providers": "Google"}, "signin.providers"),
        ({"signin.providers": "google google"}, "twice"),
        ({"signin.provider.google.issuer": "http://accounts.google.com"}, "issuer"),
        ({"signin.provider.google.issuer": "accounts.google.com"}, "issuer"),
        ({"signin.provider.google.client_id": ""}, "client_id"),
        ({"signin.provider.google.client_secret": ""}, "SIGNIN_PROVIDER_GOOGLE_CLIENT_SECRET"),
        ({"signin.provider.google.kind": "saml"}, "signin.provider.google.kind"),
        ({"signin.provider.google.trust_amr": "maybe"}, "trust_amr"),
    ],
)
def test_a_bad_provider_setting_is_named(changes, named):
    assert named in refusal({**GOOGLE, **changes})


def test_plain_http_is_allowed_only_on_this_machine():
    settings = read(**{**GOOGLE, "signin.provider.google.issuer": "http://127.0.0.1:8080"})
    assert settings.upstream_providers[0].issuer == "http://127.0.0.1:8080"
    settings = read(**{**GOOGLE, "signin.provider.google.issuer": "http://localhost:8080"})
    assert settings.upstream_providers[0].issuer == "http://localhost:8080"
