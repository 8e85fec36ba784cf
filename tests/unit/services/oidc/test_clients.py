"""The rules of the registered applications, through OidcClientService (on SQLite and
PostgreSQL): the addresses allowed, the secret kept only as its digest, and register()
and update() refusing the same settings with the same words."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AccountEvent, OidcClient
from app.services.composition import Services
from app.services.kernel import audit as events
from app.services.kernel.codes import digest
from app.services.kernel.errors import ClientRefused
from app.services.oidc.clients import check_uri, secret_matches
from tests.support import FakeClock

CALLBACK = "https://shop.example.test/callback"


def recorded(dbsession: Session) -> list[tuple[str, int | None, int | None, dict[str, Any]]]:
    return [
        (e.kind, e.account_id, e.actor_id, e.details)
        for e in dbsession.scalars(select(AccountEvent).order_by(AccountEvent.id))
    ]


def clients(dbsession: Session) -> list[OidcClient]:
    return list(dbsession.scalars(select(OidcClient).order_by(OidcClient.id)))


@pytest.mark.parametrize(
    "uri",
    [
        CALLBACK,
        "https://shop.example.test:8443/cb?x=1",
        "http://localhost:8080/cb",
        "http://127.0.0.1/cb",
        "http://127.8.9.10/cb",
        "http://[::1]:3000/cb",
    ],
)
def test_an_allowed_address_is_kept_exactly_as_given(uri: str) -> None:
    assert check_uri(uri) == uri


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("", "Each address must be a full https address."),
        (" https://shop.example.test/cb", "Each address must be a full https address."),
        ("https://shop.example.test/cb\n", "Each address must be a full https address."),
        ("https://shop.example.test/" + "a" * 1975, "Each address must be a full https address."),
        ("https://[::1", "Each address must be a full https address."),
        ("http://example.com", "Each address must be a full https address, without a fragment."),
        ("http://10.0.0.1/cb", "Each address must be a full https address, without a fragment."),
        ("http:// 127.0.0.1/cb", "Each address must be a full https address, without a fragment."),
        ("http://127.0.0.1 /cb", "Each address must be a full https address, without a fragment."),
        (
            "ftp://shop.example.test/",
            "Each address must be a full https address, without a fragment.",
        ),
        ("https:///cb", "Each address must be a full https address, without a fragment."),
        ("/callback", "Each address must be a full https address, without a fragment."),
        (f"{CALLBACK}#top", "Each address must be a full https address, without a fragment."),
        (f"{CALLBACK}#", "Each address must be a full https address, without a fragment."),
    ],
)
def test_a_refused_address_says_why(uri: str, message: str) -> None:
    with pytest.raises(ClientRefused) as refused:
        check_uri(uri)

    assert str(refused.value) == message
    assert refused.value.code == "invalid_redirect_uri"


def test_the_longest_address_allowed_is_2000_characters() -> None:
    longest = "https://shop.example.test/" + "a" * (2000 - 26)

    assert check_uri(longest) == longest
    with pytest.raises(ClientRefused):
        check_uri(longest + "a")


def test_register_keeps_the_cleaned_settings_and_only_the_secrets_digest(
    services: Services, dbsession: Session, clock: FakeClock
) -> None:
    new = services.oidc_clients.register(
        "  The \t Shop ",
        [CALLBACK, CALLBACK, f"{CALLBACK}2"],
        first_party=True,
        backchannel_logout_uri="https://shop.example.test/logout",
        post_logout_redirect_uris=["https://shop.example.test/bye"],
        created_by_id=None,
    )

    [client] = clients(dbsession)
    assert new.client is client and new.secret is not None
    assert client.name == "The Shop"
    assert client.redirect_uris == [CALLBACK, f"{CALLBACK}2"]
    assert client.post_logout_redirect_uris == ["https://shop.example.test/bye"]
    assert client.backchannel_logout_uri == "https://shop.example.test/logout"
    assert client.first_party and client.created_at == clock.now()
    assert client.secret_hash == digest(new.secret) != new.secret
    assert recorded(dbsession) == [
        (events.OIDC_CLIENT_ADDED, None, None, {"client_id": client.client_id, "name": "The Shop"})
    ]


def test_a_public_client_has_no_secret_and_matches_none(
    services: Services, dbsession: Session
) -> None:
    new = services.oidc_clients.register("App", [CALLBACK], public=True)

    assert new.secret is None and new.client.secret_hash is None and new.client.is_public
    assert not secret_matches(new.client, "")
    assert not secret_matches(new.client, digest(""))


def test_a_secret_matches_its_own_client_only(services: Services) -> None:
    shop = services.oidc_clients.register("Shop", [CALLBACK])
    other = services.oidc_clients.register("Other", [CALLBACK])
    assert shop.secret is not None and other.secret is not None

    assert secret_matches(shop.client, shop.secret)
    assert not secret_matches(shop.client, other.secret)
    assert not secret_matches(shop.client, shop.secret + "x")
    assert not secret_matches(shop.client, shop.secret.encode())
    assert not secret_matches(shop.client, None)
    assert not secret_matches(shop.client, shop.client.secret_hash)


def test_an_over_long_secret_is_refused_before_it_is_hashed(services: Services) -> None:
    shop = services.oidc_clients.register("Shop", [CALLBACK])
    shop.client.secret_hash = digest("s" * 201)

    assert not secret_matches(shop.client, "s" * 201)
    shop.client.secret_hash = digest("s" * 200)
    assert secret_matches(shop.client, "s" * 200)


TWENTY_ONE = [f"{CALLBACK}{i}" for i in range(21)]

# Settings the rules refuse, with the words of the refusal, for register and update.
REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"name": " \t "}, "Give the application a name of at most 100 characters."),
    ({"name": "x" * 101}, "Give the application a name of at most 100 characters."),
    ({"redirect_uris": []}, "Give between one and 20 redirect addresses."),
    ({"redirect_uris": TWENTY_ONE}, "Give between one and 20 redirect addresses."),
    ({"redirect_uris": ["http://example.com"]}, "without a fragment"),
    (
        {"post_logout_redirect_uris": TWENTY_ONE},
        "Give at most 20 addresses to return to after signing out.",
    ),
    ({"post_logout_redirect_uris": [f"{CALLBACK}#x"]}, "without a fragment"),
    ({"backchannel_logout_uri": "http://shop.example.test/logout"}, "without a fragment"),
]
GOOD: dict[str, Any] = {
    "name": "Shop",
    "redirect_uris": [CALLBACK],
    "post_logout_redirect_uris": [],
    "backchannel_logout_uri": None,
}


@pytest.mark.parametrize(("changes", "message"), REFUSED)
def test_register_refuses_what_the_rules_refuse_and_writes_nothing(
    services: Services, dbsession: Session, changes: dict[str, Any], message: str
) -> None:
    settings = {**GOOD, **changes}

    with pytest.raises(ClientRefused) as refused:
        services.oidc_clients.register(
            settings.pop("name"), settings.pop("redirect_uris"), **settings
        )

    assert message in str(refused.value)
    assert clients(dbsession) == [] and recorded(dbsession) == []


@pytest.mark.parametrize(("changes", "message"), REFUSED)
def test_update_refuses_what_register_refuses_and_changes_nothing(
    services: Services, dbsession: Session, changes: dict[str, Any], message: str
) -> None:
    client = services.oidc_clients.register("Shop", [CALLBACK]).client
    before = recorded(dbsession)
    settings = {**GOOD, **changes}

    with pytest.raises(ClientRefused) as refused:
        services.oidc_clients.update(
            client.client_id, first_party=True, updated_by_id=None, **settings
        )

    assert message in str(refused.value)
    dbsession.expire_all()
    assert (client.name, client.redirect_uris, client.first_party) == ("Shop", [CALLBACK], False)
    assert recorded(dbsession) == before


def test_update_changes_the_settings_and_names_them_in_its_event(
    services: Services, dbsession: Session
) -> None:
    new = services.oidc_clients.register("Shop", [CALLBACK])
    client_id = new.client.client_id

    updated = services.oidc_clients.update(
        client_id,
        " Shop  two ",
        [f"{CALLBACK}2", f"{CALLBACK}2"],
        ["https://shop.example.test/bye"],
        "https://shop.example.test/logout",
        True,
        updated_by_id=None,
    )

    dbsession.expire_all()
    [client] = clients(dbsession)
    assert updated is client
    assert client.name == "Shop two" and client.first_party
    assert client.redirect_uris == [f"{CALLBACK}2"]
    assert client.post_logout_redirect_uris == ["https://shop.example.test/bye"]
    assert client.backchannel_logout_uri == "https://shop.example.test/logout"
    assert new.secret is not None and secret_matches(client, new.secret)
    assert recorded(dbsession)[-1] == (
        events.OIDC_CLIENT_CHANGED,
        None,
        None,
        {
            "client_id": client_id,
            "name": "Shop two",
            "changed": [
                "backchannel_logout_uri",
                "first_party",
                "name",
                "post_logout_redirect_uris",
                "redirect_uris",
            ],
        },
    )


def test_update_names_only_what_changed_and_records_nothing_when_nothing_did(
    services: Services, dbsession: Session
) -> None:
    client = services.oidc_clients.register(
        "Shop", [CALLBACK], backchannel_logout_uri="https://shop.example.test/logout"
    ).client
    oidc = services.oidc_clients

    oidc.update(client.client_id, "Shop", [CALLBACK], None, None, False, updated_by_id=None)
    oidc.update(client.client_id, "Shop", [CALLBACK], [], None, False, updated_by_id=None)
    oidc.update(client.client_id, "Shop", [CALLBACK], [], None, False, updated_by_id=None)

    assert [(kind, details.get("changed")) for kind, _, _, details in recorded(dbsession)] == [
        (events.OIDC_CLIENT_ADDED, None),
        (events.OIDC_CLIENT_CHANGED, ["backchannel_logout_uri"]),
    ]
    assert client.backchannel_logout_uri is None


def test_update_of_an_unknown_client_is_refused(services: Services) -> None:
    with pytest.raises(ClientRefused) as refused:
        services.oidc_clients.update("nope", "Shop", [CALLBACK], [], None, False)

    assert refused.value.code == "client_not_found"


def test_the_event_names_the_administrator(
    services: Services, dbsession: Session, alice: Any
) -> None:
    client = services.oidc_clients.register("Shop", [CALLBACK], created_by_id=alice.id).client

    services.oidc_clients.update(
        client.client_id, "Shop", [CALLBACK], [], None, True, updated_by_id=alice.id
    )

    assert [(kind, actor) for kind, _, actor, _ in recorded(dbsession)] == [
        (events.OIDC_CLIENT_ADDED, alice.id),
        (events.OIDC_CLIENT_CHANGED, alice.id),
    ]


def test_an_unknown_client_id_is_refused_by_each_change_with_the_same_words(
    services: Services, dbsession: Session
) -> None:
    kept = services.oidc_clients.register("Shop", [CALLBACK]).client
    before = recorded(dbsession)
    changes = {
        "get": lambda: services.oidc_clients.get("no-such-client"),
        "update": lambda: services.oidc_clients.update(
            "no-such-client", "Shop", [CALLBACK], [], None, False, updated_by_id=None
        ),
        "remove": lambda: services.oidc_clients.remove("no-such-client"),
        "rotate_secret": lambda: services.oidc_clients.rotate_secret("no-such-client"),
    }

    for name, change in changes.items():
        with pytest.raises(ClientRefused) as refused:
            change()
        assert (name, str(refused.value), refused.value.code) == (
            name,
            "There is no such application.",
            "client_not_found",
        )
    assert clients(dbsession) == [kept]
    assert recorded(dbsession) == before
