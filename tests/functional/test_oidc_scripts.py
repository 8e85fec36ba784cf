"""app-oidc-client and app-oidc-keys, run as an operator would run them."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, select

from app.models import AccountEvent, OidcClient, OidcKey
from app.scripts.oidc_client import main as oidc_client
from app.scripts.oidc_keys import main as oidc_keys
from app.services.kernel.codes import digest
from app.services.oidc.clients import secret_matches
from app.services.oidc.signing_keys import PUBLISH_AHEAD, RETIRED_KEPT
from tests.functional.flows import db
from tests.support.processes import program, write_config

CLIENT_FIELDS = {
    "client_id",
    "name",
    "public",
    "first_party",
    "redirect_uris",
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "created_at",
}
KEY_FIELDS = {"kid", "algorithm", "status", "created_at", "not_before", "retired_at"}
SHOP = ["--name", "Shop", "--redirect-uri", "https://shop.example.test/callback"]

Script = Callable[..., Any]


@pytest.fixture
def config(app_settings: dict[str, str], tmp_path: Path) -> Path:
    return write_config(tmp_path, app_settings)


@pytest.fixture
def client_script(config: Path, capsys: pytest.CaptureFixture[str]) -> Script:
    """app-oidc-client CONFIG ..., called in this process: what it printed, parsed."""

    def run(*arguments: str) -> Any:
        assert oidc_client([str(config), *arguments]) == 0
        return json.loads(capsys.readouterr().out)

    return run


@pytest.fixture
def keys_script(config: Path, capsys: pytest.CaptureFixture[str]) -> Script:
    """app-oidc-keys CONFIG ..., called in this process: what it printed, parsed."""

    def run(*arguments: str) -> Any:
        assert oidc_keys([str(config), *arguments]) == 0
        return json.loads(capsys.readouterr().out)

    return run


def run_program(name: str, config: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [program(name), str(config), *arguments], capture_output=True, text=True, timeout=60
    )


def stored_values(wsgi_app: Any) -> list[bytes]:
    """Every value of every row of every table of the database."""
    with db(wsgi_app) as session:
        tables = MetaData()
        tables.reflect(bind=session.connection())
        return [
            value if isinstance(value, bytes) else str(value).encode()
            for table in tables.sorted_tables
            for row in session.execute(table.select())
            for value in row
        ]


def stored_clients(wsgi_app: Any) -> list[OidcClient]:
    with db(wsgi_app) as session:
        return list(session.scalars(select(OidcClient)))


def test_add_prints_a_confidential_clients_secret_once_and_stores_only_its_hash(
    wsgi_app: Any, config: Path
) -> None:
    result = run_program(
        "app-oidc-client",
        config,
        "add",
        "--name",
        " The  Shop ",
        "--redirect-uri",
        "https://shop.example.test/callback",
        "--redirect-uri",
        "http://127.0.0.1:8080/callback",
        "--first-party",
        "--backchannel-logout-uri",
        "https://shop.example.test/logout",
        "--post-logout-redirect-uri",
        "https://shop.example.test/",
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    secret = shown.pop("client_secret")
    assert len(secret) >= 40
    assert set(shown) == CLIENT_FIELDS
    assert shown["name"] == "The Shop"
    assert shown["public"] is False and shown["first_party"] is True
    assert shown["redirect_uris"] == [
        "https://shop.example.test/callback",
        "http://127.0.0.1:8080/callback",
    ]
    assert shown["post_logout_redirect_uris"] == ["https://shop.example.test/"]
    assert shown["backchannel_logout_uri"] == "https://shop.example.test/logout"
    assert "shown only this once" in result.stderr

    [client] = stored_clients(wsgi_app)
    assert client.client_id == shown["client_id"]
    assert client.secret_hash == digest(secret)
    assert secret_matches(client, secret)
    assert all(secret.encode() not in value for value in stored_values(wsgi_app))


def test_add_a_public_client_prints_and_stores_no_secret(
    wsgi_app: Any, client_script: Script
) -> None:
    shown = client_script("add", *SHOP, "--public")
    assert set(shown) == CLIENT_FIELDS
    assert shown["public"] is True and shown["first_party"] is False
    assert shown["post_logout_redirect_uris"] == []
    assert shown["backchannel_logout_uri"] is None
    [client] = stored_clients(wsgi_app)
    assert client.client_id == shown["client_id"] and client.secret_hash is None


def test_list_shows_every_client_by_name_and_no_secret_nor_hash(
    client_script: Script, capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    shop = client_script("add", *SHOP)
    app = client_script("add", "--name", "App", "--redirect-uri", "https://a.test/cb", "--public")

    assert oidc_client([str(config), "list"]) == 0
    printed = capsys.readouterr().out
    assert shop["client_secret"] not in printed
    assert digest(shop["client_secret"]) not in printed
    listed = json.loads(printed)
    assert [set(item) for item in listed] == [CLIENT_FIELDS, CLIENT_FIELDS]
    assert [item["client_id"] for item in listed] == [app["client_id"], shop["client_id"]]
    del shop["client_secret"]
    assert listed == [app, shop]


def test_remove_deletes_the_client(wsgi_app: Any, client_script: Script) -> None:
    kept = client_script("add", "--name", "Kept", "--redirect-uri", "https://k.test/cb")
    gone = client_script("add", *SHOP)
    assert client_script("remove", gone["client_id"]) == {
        "client_id": gone["client_id"],
        "removed": True,
    }
    assert [c.client_id for c in stored_clients(wsgi_app)] == [kept["client_id"]]
    assert client_script("list") == [{k: v for k, v in kept.items() if k != "client_secret"}]


def test_rotate_secret_prints_a_new_secret_and_the_old_one_stops_matching(
    wsgi_app: Any, client_script: Script
) -> None:
    added = client_script("add", *SHOP)
    old = added["client_secret"]
    rotated = client_script("rotate-secret", added["client_id"])
    assert set(rotated) == {"client_id", "client_secret"}
    assert rotated["client_id"] == added["client_id"]
    new = rotated["client_secret"]
    assert new != old
    [client] = stored_clients(wsgi_app)
    assert secret_matches(client, new)
    assert not secret_matches(client, old)
    assert client.secret_hash == digest(new)


def test_a_refused_uri_exits_2_with_a_message_and_writes_nothing(
    wsgi_app: Any, config: Path
) -> None:
    result = run_program(
        "app-oidc-client", config, "add", "--name", "Shop", "--redirect-uri", "http://example.com"
    )
    assert result.returncode == 2
    assert result.stdout == ""
    [message] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert message == (
        "error: add refused: Each address must be a full https address, without a fragment."
    )
    assert "Traceback" not in result.stderr
    assert stored_clients(wsgi_app) == []
    with db(wsgi_app) as session:
        assert session.scalars(select(AccountEvent)).all() == []


def test_an_unknown_client_id_on_remove_exits_2_with_a_message(
    wsgi_app: Any, config: Path, client_script: Script
) -> None:
    kept = client_script("add", *SHOP)
    result = run_program("app-oidc-client", config, "remove", "no-such-client")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "error: remove 'no-such-client' refused: There is no such application." in (
        result.stderr.splitlines()
    )
    assert "Traceback" not in result.stderr
    assert [c.client_id for c in stored_clients(wsgi_app)] == [kept["client_id"]]


def test_a_public_client_has_no_secret_to_rotate(
    config: Path, client_script: Script, capsys: pytest.CaptureFixture[str]
) -> None:
    public = client_script("add", *SHOP, "--public")
    with pytest.raises(SystemExit) as stopped:
        oidc_client([str(config), "rotate-secret", public["client_id"]])
    assert stopped.value.code == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert "A public application has no secret." in printed.err


@pytest.mark.parametrize(
    ("main", "arguments", "message"),
    [
        (oidc_client, ["add", "--name", "Shop"], "--redirect-uri"),
        (oidc_client, [], "required: COMMAND"),
        (oidc_client, ["remove"], "client_id"),
        (oidc_keys, ["rotate", "--algorithm", "HS256"], "invalid choice: 'HS256'"),
    ],
)
def test_usage_errors_exit_2(
    config: Path,
    capsys: pytest.CaptureFixture[str],
    main: Callable[[list[str]], int],
    arguments: list[str],
    message: str,
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([str(config), *arguments])
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def has_field(value: Any, name: str) -> bool:
    if isinstance(value, dict):
        return name in value or any(has_field(item, name) for item in value.values())
    if isinstance(value, list):
        return any(has_field(item, name) for item in value)
    return False


def test_keys_ensure_rotate_and_list(keys_script: Script) -> None:
    made = keys_script("ensure")
    assert made["pruned"] == 0 and len(made["kids"]) == 2
    assert keys_script("ensure") == {"kids": [], "pruned": 0}

    first = keys_script("list")
    assert [set(key) for key in first] == [KEY_FIELDS, KEY_FIELDS]
    assert {key["kid"] for key in first} == set(made["kids"])
    assert [key["algorithm"] for key in first] == ["ES256", "RS256"]
    assert [key["status"] for key in first] == ["signing", "signing"]
    for key in first:
        created_at = datetime.fromisoformat(key["created_at"])
        assert created_at - timedelta(seconds=5) <= datetime.fromisoformat(key["not_before"])
        assert datetime.fromisoformat(key["not_before"]) <= created_at
    assert [key["retired_at"] for key in first] == [None, None]

    before = datetime.now(UTC)
    rotated = keys_script("rotate")
    after = datetime.now(UTC)
    assert set(rotated) == {"kids", "signing_from"} and len(rotated["kids"]) == 2
    signing_from = datetime.fromisoformat(rotated["signing_from"])
    assert before + PUBLISH_AHEAD <= signing_from <= after + PUBLISH_AHEAD

    listed = keys_script("list")
    assert not has_field(listed, "d") and not has_field(listed, "private_key")
    by_kid = {key["kid"]: key for key in listed}
    assert set(by_kid) == set(made["kids"]) | set(rotated["kids"])
    for kid in made["kids"]:
        assert by_kid[kid]["status"] == "signing"
        assert by_kid[kid]["retired_at"] == rotated["signing_from"]
    for kid in rotated["kids"]:
        assert by_kid[kid]["status"] == "next"
        assert by_kid[kid]["not_before"] == rotated["signing_from"]
        assert by_kid[kid]["retired_at"] is None

    only_es = keys_script("rotate", "--algorithm", "ES256")
    [kid] = only_es["kids"]
    assert {key["kid"]: key["algorithm"] for key in keys_script("list")}[kid] == "ES256"
    assert len(keys_script("list")) == 5


def test_keys_ensure_rotates_when_due_and_prunes_long_retired_keys(
    wsgi_app: Any, app_settings: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, {**app_settings, "oidc.key_rotation_days": "1"})

    def ensure() -> Any:
        assert oidc_keys([str(config), "ensure"]) == 0
        return json.loads(capsys.readouterr().out)

    old = ensure()["kids"]
    assert ensure() == {"kids": [], "pruned": 0}
    with db(wsgi_app) as session, session.begin():
        for key in session.scalars(select(OidcKey)):
            key.created_at -= timedelta(days=2)
            key.not_before -= timedelta(days=2)

    rotated = ensure()
    assert rotated["pruned"] == 0 and len(rotated["kids"]) == 2
    assert set(rotated["kids"]).isdisjoint(old)
    with db(wsgi_app) as session:
        stored = {key.kid: key for key in session.scalars(select(OidcKey))}
    assert set(stored) == set(old) | set(rotated["kids"])
    successor = {stored[kid].algorithm: stored[kid] for kid in rotated["kids"]}
    assert sorted(successor) == ["ES256", "RS256"]
    for kid in old:
        replaced = stored[kid]
        assert replaced.retired_at == successor[replaced.algorithm].not_before
        assert replaced.retired_at > datetime.now(UTC)

    with db(wsgi_app) as session, session.begin():
        for key in session.scalars(select(OidcKey).where(OidcKey.kid.in_(old))):
            key.retired_at = datetime.now(UTC) - RETIRED_KEPT - timedelta(minutes=1)
    assert ensure() == {"kids": [], "pruned": 2}
    assert oidc_keys([str(config), "list"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {key["kid"] for key in listed} == set(rotated["kids"])
    assert [key["status"] for key in listed] == ["next", "next"]
