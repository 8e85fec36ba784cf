"""Administrators' pages of the applications registered with the identity provider:
adding one (its secret shown once, only its digest kept), its settings, a new secret,
removal, the event each change leaves, and who may do any of it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.models import Account, AccountEvent, OidcClient
from app.services.kernel import audit as events
from app.services.kernel.codes import digest
from app.services.oidc.clients import secret_matches
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, sign_in
from tests.support import dump_database, form_by_action

ADMIN = "admin@example.com"
ALICE = "alice@example.com"
CALLBACK = "https://shop.example.test/callback"
ONCE_NOTICE = "It will not be shown again"


@pytest.fixture
def admin_id(admin_app) -> int:
    with db(admin_app) as session:
        return session.scalars(select(Account.id).where(Account.email == ADMIN)).one()


def _add(admin, status: int = 200, **fields: Any):
    form = form_by_action(admin.get("/admin/clients/new"), "/admin/clients/new")
    values = {"name": "Shop", "redirect_uris": CALLBACK, **fields}
    for name, value in values.items():
        form[name] = value
    return form.submit(status=status)


def _shown(page, element_id: str) -> str:
    return page.html.find(id=element_id).text.strip()


def _clients(wsgi_app) -> list[OidcClient]:
    with db(wsgi_app) as session:
        return list(session.scalars(select(OidcClient).order_by(OidcClient.id)))


def _client_events(wsgi_app) -> list[tuple[str, int | None, int | None, dict[str, Any]]]:
    with db(wsgi_app) as session:
        recorded = session.scalars(
            select(AccountEvent)
            .where(AccountEvent.kind.like("oidc_client_%"))
            .order_by(AccountEvent.id)
        )
        return [(e.kind, e.account_id, e.actor_id, e.details) for e in recorded]


def _database(wsgi_app) -> str:
    with db(wsgi_app) as session:
        return dump_database(session)


def _clients_and_events(wsgi_app) -> tuple[list[dict[str, Any]], list[Any]]:
    """Every column of every application, and the events about applications."""
    with db(wsgi_app) as session:
        rows = [dict(row._mapping) for row in session.execute(select(OidcClient.__table__))]
    return rows, _client_events(wsgi_app)


def test_a_confidential_client_is_added_and_its_secret_shown_once(admin_app, admin, admin_id):
    page = _add(admin, name="  The   Shop ", redirect_uris=f"{CALLBACK}\r\n\r\n{CALLBACK}2\r\n")

    client_id, secret = _shown(page, "client-id"), _shown(page, "client-secret")
    assert ONCE_NOTICE in page.text
    [client] = _clients(admin_app)
    assert (client.client_id, client.name) == (client_id, "The Shop")
    assert client.redirect_uris == [CALLBACK, f"{CALLBACK}2"]
    assert client.secret_hash == digest(secret) and secret_matches(client, secret)
    assert secret not in _database(admin_app)
    assert client.created_by_id == admin_id and not client.first_party
    # Never again: neither in the list nor on the application's page.
    listed = admin.get("/admin/clients")
    client_page = admin.get(f"/admin/clients/{client_id}")
    for later in (listed, client_page):
        assert secret not in later.text and ONCE_NOTICE not in later.text
    row = listed.html.find("tr", {"data-client-id": client_id})
    cells = [cell.text.strip() for cell in row.find_all("td")]
    assert cells[:4] == ["The Shop", client_id, "Confidential", "No"]
    assert row.find("time")["datetime"] == client.created_at.isoformat()
    assert _client_events(admin_app) == [
        (events.OIDC_CLIENT_ADDED, None, admin_id, {"client_id": client_id, "name": "The Shop"})
    ]


def test_a_public_first_party_client_has_no_secret(admin_app, admin):
    page = _add(admin, public=True, first_party=True)

    assert page.html.find(id="client-secret") is None and ONCE_NOTICE not in page.text
    [client] = _clients(admin_app)
    assert client.secret_hash is None and client.first_party
    row = admin.get("/admin/clients").html.find("tr", {"data-client-id": client.client_id})
    assert [cell.text.strip() for cell in row.find_all("td")][2:4] == ["Public (no secret)", "Yes"]
    assert "/rotate_secret" not in admin.get(f"/admin/clients/{client.client_id}").text


def test_the_page_of_a_new_application_starts_blank(admin):
    form = form_by_action(admin.get("/admin/clients/new"), "/admin/clients/new")

    texts = ("name", "redirect_uris", "post_logout_redirect_uris", "backchannel_logout_uri")
    shown = {name: form[name].value for name in texts}
    shown |= {name: form[name].checked for name in ("first_party", "public")}
    assert shown == {
        "name": "",
        "redirect_uris": "",
        "post_logout_redirect_uris": "",
        "backchannel_logout_uri": "",
        "first_party": False,
        "public": False,
    }


def test_address_lists_longer_than_an_ordinary_field_are_taken_within_their_limits(
    admin_app, admin
):
    """A list holds up to twenty addresses of up to 2,000 characters: three of some
    1,900 already make it longer than the 4,096 characters any other field may be."""
    long = "https://shop.example.test/" + "a" * 1870
    redirect_uris = [f"{long}/callback{i}" for i in range(3)]
    post_logout_uris = [f"{long}/bye{i}" for i in range(3)]

    page = _add(
        admin,
        redirect_uris="\n".join(redirect_uris),
        post_logout_redirect_uris="\n".join(post_logout_uris),
    )

    [client] = _clients(admin_app)
    assert _shown(page, "client-id") == client.client_id
    assert client.redirect_uris == redirect_uris
    assert client.post_logout_redirect_uris == post_logout_uris


def test_a_form_sent_with_a_field_repeated_is_refused_and_writes_nothing(admin_app, admin):
    token = form_by_action(admin.get("/admin/clients/new"), "/admin/clients/new")["csrf_token"]
    before = _database(admin_app)

    page = admin.post(
        "/admin/clients/new",
        [
            ("csrf_token", token.value),
            ("name", "Shop"),
            ("redirect_uris", CALLBACK),
            ("backchannel_logout_uri", "https://shop.example.test/logout"),
            ("backchannel_logout_uri", "https://evil.example.test/logout"),
        ],
        status=400,
    )

    assert "The form was sent with a field repeated." in _shown(page, "error-summary")
    assert _database(admin_app) == before


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"redirect_uris": "http://example.com"}, "redirect_uris", "full https address"),
        ({"redirect_uris": ""}, "redirect_uris", "between one and 20"),
        (
            {"redirect_uris": "\n".join(f"{CALLBACK}{i}" for i in range(21))},
            "redirect_uris",
            "between one and 20",
        ),
        ({"name": "   "}, "name", "Give the application a name"),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        (
            {"post_logout_redirect_uris": "https://shop.example.test/#bye"},
            "post_logout_redirect_uris",
            "without a fragment",
        ),
        (
            {"backchannel_logout_uri": "http://shop.example.test/logout"},
            "backchannel_logout_uri",
            "full https address",
        ),
    ],
)
def test_a_refused_setting_is_shown_beside_its_field_and_writes_nothing(
    admin_app, admin, fields, field, message
):
    form = form_by_action(admin.get("/admin/clients/new"), "/admin/clients/new")
    form["name"], form["redirect_uris"] = "Shop", CALLBACK
    for name, value in fields.items():
        form[name] = value
    before = _database(admin_app)

    page = form.submit(status=400)

    control = page.html.find(id=field)
    assert control["aria-invalid"] == "true"
    assert f"{field}-error" in control["aria-describedby"].split()
    assert message in _shown(page, f"{field}-error")
    assert page.html.find(id="error-summary").find("a", href=f"#{field}")
    assert [error["id"] for error in page.html.select(".field-error")] == [f"{field}-error"]
    assert _database(admin_app) == before


def test_the_refused_address_is_named_and_the_form_given_back(admin_app, admin):
    page = _add(admin, status=400, redirect_uris=f"{CALLBACK}\nhttp://example.com", public=True)

    error = _shown(page, "redirect_uris-error")
    assert "“http://example.com” cannot be used." in error
    assert page.html.find(id="redirect_uris").text.strip() == f"{CALLBACK}\nhttp://example.com"
    assert page.html.find(id="name")["value"] == "Shop"
    assert page.html.find(id="public").has_attr("checked")
    assert _clients(admin_app) == [] and _client_events(admin_app) == []


@pytest.mark.parametrize("length", [80, 81])
def test_a_long_refused_address_is_quoted_up_to_80_characters(admin_app, admin, length):
    address = "http://example.com/" + "a" * (length - 19)

    page = _add(admin, status=400, redirect_uris=address)

    quoted = address if length <= 80 else address[:79] + "…"
    assert _shown(page, "redirect_uris-error").startswith(f"“{quoted}” cannot be used. ")


def _added(admin) -> tuple[str, str]:
    page = _add(admin)
    return _shown(page, "client-id"), _shown(page, "client-secret")


def test_editing_saves_the_settings_and_records_what_changed(admin_app, admin, admin_id):
    client_id, secret = _added(admin)
    page = admin.get(f"/admin/clients/{client_id}")
    form = form_by_action(page, f"/admin/clients/{client_id}")
    assert form["name"].value == "Shop" and form["redirect_uris"].value.strip() == CALLBACK
    form["name"] = "Shop (new)"
    form["redirect_uris"] = f"{CALLBACK}\nhttps://shop.example.test/other"
    form["post_logout_redirect_uris"] = "https://shop.example.test/bye"
    form["backchannel_logout_uri"] = " https://shop.example.test/logout "
    form["first_party"] = True

    done = form.submit(status=303)

    assert urlsplit(done.location).path == f"/admin/clients/{client_id}"
    assert "The settings of Shop (new) are saved." in done.follow().text
    [client] = _clients(admin_app)
    assert client.name == "Shop (new)" and client.first_party
    assert client.redirect_uris == [CALLBACK, "https://shop.example.test/other"]
    assert client.post_logout_redirect_uris == ["https://shop.example.test/bye"]
    assert client.backchannel_logout_uri == "https://shop.example.test/logout"
    assert secret_matches(client, secret)
    changed = [
        "backchannel_logout_uri",
        "first_party",
        "name",
        "post_logout_redirect_uris",
        "redirect_uris",
    ]
    assert _client_events(admin_app)[-1] == (
        events.OIDC_CLIENT_CHANGED,
        None,
        admin_id,
        {"client_id": client_id, "name": "Shop (new)", "changed": changed},
    )


def test_an_applications_page_shows_its_settings_and_saving_them_as_shown_changes_nothing(
    admin_app, admin
):
    redirect_uris = f"{CALLBACK}\nhttps://shop.example.test/other"
    post_logout_uris = "https://shop.example.test/bye\nhttps://shop.example.test/later"
    backchannel = "https://shop.example.test/logout"
    client_id = _shown(
        _add(
            admin,
            redirect_uris=redirect_uris,
            post_logout_redirect_uris=post_logout_uris,
            backchannel_logout_uri=backchannel,
            first_party=True,
        ),
        "client-id",
    )
    page = admin.get(f"/admin/clients/{client_id}")
    form = form_by_action(page, f"/admin/clients/{client_id}")
    shown = (
        form["name"].value,
        form["redirect_uris"].value.strip(),
        form["post_logout_redirect_uris"].value.strip(),
        form["backchannel_logout_uri"].value,
        form["first_party"].checked,
    )
    assert shown == ("Shop", redirect_uris, post_logout_uris, backchannel, True)
    before = _clients_and_events(admin_app)

    form.submit(status=303)

    assert _clients_and_events(admin_app) == before


def test_an_edit_with_a_refused_address_is_a_400_and_changes_nothing(admin_app, admin):
    client_id, _ = _added(admin)
    form = form_by_action(admin.get(f"/admin/clients/{client_id}"), f"/admin/clients/{client_id}")
    form["name"] = "Renamed"
    form["redirect_uris"] = "http://example.com"
    before = _database(admin_app)

    page = form.submit(status=400)

    assert "redirect_uris-error" in page.html.find(id="redirect_uris")["aria-describedby"]
    assert page.html.find(id="name")["value"] == "Renamed"
    assert page.html.find("h1").text == "Shop"
    assert _database(admin_app) == before


def test_a_new_secret_is_shown_once_and_the_old_one_stops_matching(admin_app, admin, admin_id):
    client_id, old = _added(admin)
    page = admin.get(f"/admin/clients/{client_id}")

    rotated = form_by_action(page, f"/admin/clients/{client_id}/rotate_secret").submit(status=200)

    new = _shown(rotated, "client-secret")
    assert new != old and ONCE_NOTICE in rotated.text
    assert rotated.html.find("h1").text.strip() == "A new secret for Shop"
    assert _shown(rotated, "client-id") == client_id
    [client] = _clients(admin_app)
    assert secret_matches(client, new) and not secret_matches(client, old)
    assert client.secret_rotated_at is not None
    assert new not in _database(admin_app)
    assert new not in admin.get(f"/admin/clients/{client_id}").text
    assert _client_events(admin_app)[-1] == (
        events.OIDC_CLIENT_SECRET_ROTATED,
        None,
        admin_id,
        {"client_id": client_id},
    )


def test_a_public_client_gets_no_secret(admin_app, admin):
    client_id = _shown(_add(admin, public=True), "client-id")
    token = form_by_action(admin.get("/admin/clients/new"), "/admin/clients/new")["csrf_token"]

    done = admin.post(f"/admin/clients/{client_id}/rotate_secret", {"csrf_token": token.value})

    assert done.status_int == 303
    problems = [p.text.strip() for p in done.follow().html.select(".notice-error p")]
    assert problems == ["A public application has no secret."]
    assert _clients(admin_app)[0].secret_hash is None
    assert [kind for kind, *_ in _client_events(admin_app)] == [events.OIDC_CLIENT_ADDED]


def test_removing_is_confirmed_first_then_the_client_is_gone(admin_app, admin, admin_id):
    client_id, _ = _added(admin)
    page = admin.get(f"/admin/clients/{client_id}")

    confirm = page.click(href=f"/admin/clients/{client_id}/remove")

    assert confirm.html.find("h1").text.strip() == "Remove Shop?"
    assert len(_clients(admin_app)) == 1
    done = form_by_action(confirm, f"/admin/clients/{client_id}/remove").submit(status=303)
    assert urlsplit(done.location).path == "/admin/clients"
    assert "Shop is removed" in done.follow().text
    assert _clients(admin_app) == []
    assert _client_events(admin_app)[-1] == (
        events.OIDC_CLIENT_REMOVED,
        None,
        admin_id,
        {"client_id": client_id, "name": "Shop"},
    )
    admin.get(f"/admin/clients/{client_id}", status=404)
    admin.get(f"/admin/clients/{client_id}/remove", status=404)


def test_an_unknown_client_or_action_is_a_404(admin_app, admin):
    client_id, _ = _added(admin)
    token = form_by_action(admin.get("/admin/clients/new"), "/admin/clients/new")["csrf_token"]
    admin.get("/admin/clients/no-such-client", status=404)
    admin.post(f"/admin/clients/{client_id}/disable", {"csrf_token": token.value}, status=404)
    admin.post("/admin/clients/no-such-client/remove", {"csrf_token": token.value}, status=404)
    assert len(_clients(admin_app)) == 1


def test_the_account_list_leads_to_the_applications(admin):
    accounts = admin.get("/admin/accounts")
    assert accounts.click(href="^/admin/clients$").html.find("h1").text == "Applications"


def test_non_admins_get_403_and_anonymous_visitors_are_sent_to_sign_in(admin_app, admin):
    client_id, _ = _added(admin)
    gets = ["/admin/clients", "/admin/clients/new", f"/admin/clients/{client_id}"]
    posts = [
        "/admin/clients/new",
        f"/admin/clients/{client_id}",
        f"/admin/clients/{client_id}/remove",
        f"/admin/clients/{client_id}/rotate_secret",
    ]
    create_account(admin_app, ALICE, STRONG_PASSWORD)
    alice = new_client(admin_app)
    sign_in(alice, ALICE, STRONG_PASSWORD)
    token = form_by_action(alice.get("/account/sessions"), "/account/logout")["csrf_token"].value
    before = _database(admin_app)
    for url in [*gets, f"/admin/clients/{client_id}/remove"]:
        assert "Not allowed" in alice.get(url, status=403).text
    for url in posts:
        alice.post(
            url, {"csrf_token": token, "name": "Mine", "redirect_uris": CALLBACK}, status=403
        )
    anonymous = new_client(admin_app)
    for url in gets:
        assert urlsplit(anonymous.get(url, status=303).location).path == "/account/signin"
    assert _database(admin_app) == before


def test_every_change_needs_a_recent_sign_in(admin_app, admin, clock):
    client_id, secret = _added(admin)
    new_form = form_by_action(admin.get("/admin/clients/new"), "/admin/clients/new")
    new_form["name"], new_form["redirect_uris"] = "Other", CALLBACK
    page = admin.get(f"/admin/clients/{client_id}")
    edit = form_by_action(page, f"/admin/clients/{client_id}")
    edit["name"] = "Renamed"
    rotate = form_by_action(page, f"/admin/clients/{client_id}/rotate_secret")
    confirm = page.click(href=f"/admin/clients/{client_id}/remove")
    remove = form_by_action(confirm, f"/admin/clients/{client_id}/remove")
    before = _clients_and_events(admin_app)

    clock.advance(minutes=16)

    for form in (new_form, edit, rotate, remove):
        asked = form.submit(status=303)
        assert urlsplit(asked.location).path == "/account/reauthenticate", form.action
    asked = admin.get(f"/admin/clients/{client_id}/remove", status=303)
    assert urlsplit(asked.location).path == "/account/reauthenticate"
    # Looking needs no new proof.
    assert client_id in admin.get("/admin/clients").text
    admin.get(f"/admin/clients/{client_id}", status=200)
    assert _clients_and_events(admin_app) == before
    assert secret_matches(_clients(admin_app)[0], secret)


def test_each_change_leaves_one_event_naming_the_administrator(admin_app, admin, admin_id):
    client_id, _ = _added(admin)
    page = admin.get(f"/admin/clients/{client_id}")
    edit = form_by_action(page, f"/admin/clients/{client_id}")
    edit["first_party"] = True
    edit.submit(status=303)
    # Saved again without a change: nothing changed, nothing is recorded.
    form_by_action(admin.get(f"/admin/clients/{client_id}"), f"/admin/clients/{client_id}").submit(
        status=303
    )
    form_by_action(page, f"/admin/clients/{client_id}/rotate_secret").submit(status=200)
    confirm = page.click(href=f"/admin/clients/{client_id}/remove")
    form_by_action(confirm, f"/admin/clients/{client_id}/remove").submit(status=303)

    assert [(kind, account, actor) for kind, account, actor, _ in _client_events(admin_app)] == [
        (events.OIDC_CLIENT_ADDED, None, admin_id),
        (events.OIDC_CLIENT_CHANGED, None, admin_id),
        (events.OIDC_CLIENT_SECRET_ROTATED, None, admin_id),
        (events.OIDC_CLIENT_REMOVED, None, admin_id),
    ]
