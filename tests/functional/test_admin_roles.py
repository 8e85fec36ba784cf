"""/admin/accounts/{id}/role: an administrator makes an account an administrator or
takes the role back, after a recent sign-in; the owner is told; the last active
administrator keeps the role; a role that is neither admin nor user is a 400."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from app.models import Account
from tests.conftest import OTHER_PASSWORD, STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, deliver_mail, sign_in
from tests.support import form_by_action

ADMIN = "admin@example.com"


def _id(app, email: str) -> int:
    with db(app) as session:
        return session.scalars(select(Account.id).where(Account.email == email)).one()


def _is_admin(app, email: str) -> bool:
    with db(app) as session:
        return session.scalars(select(Account.is_admin).where(Account.email == email)).one()


def test_the_role_is_given_then_taken_back_and_the_owner_told(admin_app, admin, smtp_server):
    create_account(admin_app, "user@example.com", OTHER_PASSWORD)
    user_id = _id(admin_app, "user@example.com")
    page = admin.get(f"/admin/accounts/{user_id}")
    form_by_action(page, f"/admin/accounts/{user_id}/role").submit(status=303)
    assert _is_admin(admin_app, "user@example.com")
    page = admin.get(f"/admin/accounts/{user_id}")
    assert "is now an administrator" in page.text
    assert page.html.find(id="revoke-administrator") is not None
    # The new administrator reaches the administration pages.
    other = new_client(admin_app)
    sign_in(other, "user@example.com", OTHER_PASSWORD)
    other.get("/admin/accounts", status=200)
    form_by_action(page, f"/admin/accounts/{user_id}/role").submit(status=303)
    assert not _is_admin(admin_app, "user@example.com")
    other.get("/admin/accounts", status=403)
    deliver_mail(admin_app)
    subjects = [m.message["Subject"] for m in smtp_server.mailbox.to("user@example.com")]
    assert subjects == ["You are now an administrator", "You are no longer an administrator"]


def test_the_last_active_administrator_keeps_the_role(admin_app, admin):
    admin_id = _id(admin_app, ADMIN)
    page = admin.get(f"/admin/accounts/{admin_id}")
    form_by_action(page, f"/admin/accounts/{admin_id}/role").submit(status=303)
    assert _is_admin(admin_app, ADMIN)
    assert "last active administrator keeps the role" in admin.get(f"/admin/accounts/{admin_id}")


def test_the_role_needs_a_recent_sign_in_and_a_known_role(admin_app, admin, clock):
    create_account(admin_app, "user@example.com", OTHER_PASSWORD)
    user_id = _id(admin_app, "user@example.com")
    page = admin.get(f"/admin/accounts/{user_id}")
    token = page.html.find("input", {"name": "csrf_token"})["value"]
    for role in ("root", "", "ADMIN"):
        refused = admin.post(
            f"/admin/accounts/{user_id}/role", {"csrf_token": token, "role": role}, status=400
        )
        assert "admin or user" in refused.text
    admin.post(f"/admin/accounts/{user_id}/role", {"csrf_token": token}, status=400)
    clock.advance(minutes=16)
    asked = form_by_action(page, f"/admin/accounts/{user_id}/role").submit(status=303)
    assert urlsplit(asked.location).path == "/account/reauthenticate"
    assert not _is_admin(admin_app, "user@example.com")


def test_someone_who_is_no_administrator_cannot_change_roles(admin_app):
    create_account(admin_app, "user@example.com", STRONG_PASSWORD)
    client = new_client(admin_app)
    sign_in(client, "user@example.com", STRONG_PASSWORD)
    token = client.get("/account").html.find("input", {"name": "csrf_token"})["value"]
    user_id = _id(admin_app, "user@example.com")
    client.post(
        f"/admin/accounts/{user_id}/role", {"csrf_token": token, "role": "admin"}, status=403
    )
    assert not _is_admin(admin_app, "user@example.com")
