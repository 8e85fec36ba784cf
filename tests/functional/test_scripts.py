"""The console scripts, run as a person would run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.models import Account, OneTimeCode, OutgoingEmail

from ..conftest import STRONG_PASSWORD, new_client
from .flows import choose_password, db, forgot_password, open_link, sign_in

ROOT = Path(__file__).resolve().parents[2]


def _write_config(tmp_path: Path, settings: dict[str, str]) -> Path:
    lines = ["[app:main]", "use = egg:app"]
    lines += [f"{key} = {value}" for key, value in settings.items()]
    lines += [
        "",
        "[loggers]",
        "keys = root",
        "[handlers]",
        "keys = console",
        "[formatters]",
        "keys = generic",
        "[logger_root]",
        "level = WARN",
        "handlers = console",
        "[handler_console]",
        "class = StreamHandler",
        "args = (sys.stderr,)",
        "formatter = generic",
        "[formatter_generic]",
        "format = %%(levelname)s %%(message)s",
    ]
    path = tmp_path / "test.ini"
    path.write_text("\n".join(lines) + "\n")
    return path


def _script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def test_create_admin_prints_a_link_that_lets_the_admin_choose_a_password(
    wsgi_app, app_settings, tmp_path
):
    config = _write_config(tmp_path, app_settings)
    result = subprocess.run(
        [_script("app-create-admin"), str(config), " Admin@Example.com "],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    link = next(line for line in result.stdout.splitlines() if "/account/reset_password/" in line)
    code = link.rsplit("/", 1)[1]

    client = new_client(wsgi_app)
    open_link(client, code)
    page = client.get("/account/reset_password")
    assert "Choose your password" in page.text
    done = choose_password(client, STRONG_PASSWORD)
    assert "please sign in" in done.text
    assert urlsplit(sign_in(client, "admin@example.com", STRONG_PASSWORD).location).path == (
        "/account"
    )
    with db(wsgi_app) as session:
        admin = session.scalars(select(Account)).one()
    assert admin.is_admin and admin.email == "admin@example.com"
    assert "admin@example.com" in client.get("/admin/accounts").text
    client.get("/admin/accounts/new", status=200)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.ini", "admin@example.com"], "No such config file"),
        (["CONFIG", "not an email"], "not a usable email address"),
    ],
)
def test_create_admin_refuses_bad_arguments_clearly(app_settings, tmp_path, arguments, message):
    config = _write_config(tmp_path, app_settings)
    arguments = [str(config) if a == "CONFIG" else a for a in arguments]
    result = subprocess.run(
        [_script("app-create-admin"), *arguments], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_mail_worker_delivers_the_outbox(wsgi_app, app_settings, tmp_path, smtp_server):
    from .flows import create_account

    create_account(wsgi_app, "alice@example.com", STRONG_PASSWORD)
    forgot_password(new_client(wsgi_app), "alice@example.com")
    config = _write_config(tmp_path, {**app_settings, "mail.delivery": "worker"})
    result = subprocess.run(
        [_script("app-mail-worker"), str(config), "--once"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [mail] = smtp_server.mailbox.to("alice@example.com")
    assert mail.link_code
    with db(wsgi_app) as session:
        assert session.scalars(select(OutgoingEmail)).one().sent_at is not None


def test_promoting_an_account_grants_nothing_to_whoever_registered_it(
    wsgi_app, app_settings, tmp_path, capsys
):
    """SECURITY.md item 32: someone registers the future administrator's address first,
    with a password of their own, and stays signed in. The operator then runs
    app-create-admin for that address: the squatter's password, session and links all
    stop working, and only the printed link makes the account usable."""
    from app.scripts.create_admin import main as create_admin

    from .flows import create_account

    create_account(wsgi_app, "ceo@example.com", "squatters own chosen passphrase")
    squatter = new_client(wsgi_app)
    sign_in(squatter, "ceo@example.com", "squatters own chosen passphrase")
    forgot_password(squatter, "ceo@example.com")
    with db(wsgi_app) as session:
        [early_code] = session.scalars(select(OneTimeCode.code_hash)).all()

    config = _write_config(tmp_path, app_settings)
    assert create_admin([str(config), "ceo@example.com"]) == 0
    printed = capsys.readouterr().out
    assert "was cleared" in printed and "7 days" in printed

    squatter.get("/account", status=303)
    squatter.get("/admin/accounts", status=303)
    sign_in(new_client(wsgi_app), "ceo@example.com", "squatters own chosen passphrase", status=400)
    with db(wsgi_app) as session:
        early = session.scalars(
            select(OneTimeCode).where(OneTimeCode.code_hash == early_code)
        ).one()
        assert early.used_at is not None
        account = session.scalars(select(Account)).one()
        assert account.is_admin and account.password_hash is None

    link = next(line for line in printed.splitlines() if "/account/reset_password/" in line)
    owner = new_client(wsgi_app)
    open_link(owner, link.rsplit("/", 1)[1])
    choose_password(owner, STRONG_PASSWORD)
    sign_in(owner, "ceo@example.com", STRONG_PASSWORD)
    owner.get("/admin/accounts", status=200)
