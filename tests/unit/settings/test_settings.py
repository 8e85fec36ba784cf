"""Settings are read once into a typed object; a bad value stops start-up with a
sentence that names the setting."""

from __future__ import annotations

import ipaddress

import pytest

from app.settings import AppSettings, SettingsError
from tests.conftest import BASE_URL, SECRET

REQUIRED = {"app.secret": SECRET, "app.base_url": BASE_URL}


def refusal(**settings: str) -> str:
    with pytest.raises(SettingsError) as caught:
        AppSettings.from_settings(
            {**REQUIRED, **{k.replace("__", "."): v for k, v in settings.items()}}
        )
    return str(caught.value)


def test_defaults_need_only_the_secret_and_the_base_url():
    settings = AppSettings.from_settings(REQUIRED)
    assert settings.max_body_bytes == 64 * 1024
    assert settings.trusted_proxies == ()
    assert settings.rate_limits["signin_per_account"] == "10/5minutes"
    assert settings.ratelimit_processes == 1
    assert settings.mail_file_directory == "var/mail"


def test_each_setting_is_read_from_its_key():
    settings = AppSettings.from_settings(
        {
            **REQUIRED,
            "app.max_body_bytes": "131072",
            "app.trusted_proxies": "127.0.0.1, ::1 10.0.0.0/8",
            "ratelimit.signin_per_ip": "7/minute",
            "ratelimit.processes": "3",
            "mail.file_directory": "/tmp/mail",
        }
    )
    assert settings.max_body_bytes == 131072
    assert settings.trusted_proxies == (
        ipaddress.ip_network("127.0.0.1"),
        ipaddress.ip_network("::1"),
        ipaddress.ip_network("10.0.0.0/8"),
    )
    assert settings.rate_limits["signin_per_ip"] == "7/minute"
    assert settings.ratelimit_processes == 3
    assert settings.mail_file_directory == "/tmp/mail"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("app.max_body_bytes", "lots"),
        ("app.max_body_bytes", "10"),
        ("app.trusted_proxies", "my-proxy"),
        ("ratelimit.signin_per_account", "ten a minute"),
        ("ratelimit.processes", "0"),
        ("accounts.reset_code_minutes", "0"),
        ("app.secure_cookies", "perhaps"),
        ("mail.delivery", "pigeon"),
        ("api.allowed_origins", "*"),
        ("api.allowed_origins", "https://shop.example.com/page"),
        ("api.allowed_origins", "shop.example.com"),
        ("api.allowed_origins", "https://shop.example.com?x=1"),
        ("api.frontend_url", "shop.example.com/account"),
    ],
)
def test_a_bad_value_names_its_setting(key, value):
    message = refusal(**{key.replace(".", "__"): value})
    assert key in message
    assert repr(value) in message


def test_the_secret_and_base_url_are_required():
    with pytest.raises(SettingsError, match="APP_SECRET"):
        AppSettings.from_settings({"app.base_url": BASE_URL})
    with pytest.raises(SettingsError, match="app.base_url"):
        AppSettings.from_settings({"app.secret": SECRET})


@pytest.mark.parametrize(
    "url", ["accounts.example.com", "ftp://accounts.example.com", "https:///accounts"]
)
def test_a_base_url_must_be_a_web_address_with_a_host(url):
    with pytest.raises(SettingsError, match="site's public address"):
        AppSettings.from_settings({"app.secret": SECRET, "app.base_url": url})


def test_the_apis_origins_and_pages_are_read_as_origins_and_an_address():
    settings = AppSettings.from_settings(
        {
            **REQUIRED,
            "api.allowed_origins": "https://Shop.example.com, http://localhost:5173/",
            "api.frontend_url": "https://shop.example.com/account/",
        }
    )
    assert settings.api_allowed_origins == ("https://shop.example.com", "http://localhost:5173")
    assert settings.api_frontend_url == "https://shop.example.com/account"
    assert AppSettings.from_settings(REQUIRED).api_allowed_origins == ()
