"""The security policy's answers that no page asks for today but Pyramid's API offers."""

from __future__ import annotations

from types import SimpleNamespace

from app.security import PERMISSION_ADMIN, PERMISSION_SIGNED_IN, SecurityPolicy
from app.web.cookies import Cookies

POLICY = SecurityPolicy(Cookies(secure=False), max_age_seconds=60, admins_need_second_factor=False)


def test_the_authenticated_userid_is_the_signed_in_accounts_id() -> None:
    assert POLICY.authenticated_userid(SimpleNamespace(identity=SimpleNamespace(id=7))) == 7
    assert POLICY.authenticated_userid(SimpleNamespace(identity=None)) is None


def test_permissions_follow_who_is_signed_in() -> None:
    anonymous = SimpleNamespace(identity=None)
    user = SimpleNamespace(
        identity=SimpleNamespace(id=1, is_admin=False, password_breached_at=None)
    )
    admin = SimpleNamespace(
        identity=SimpleNamespace(id=2, is_admin=True, password_breached_at=None),
        services=SimpleNamespace(two_factor=SimpleNamespace(has_second_factor=lambda a: True)),
    )

    assert [bool(POLICY.permits(r, None, PERMISSION_SIGNED_IN)) for r in (anonymous, user)] == [
        False,
        True,
    ]
    assert [bool(POLICY.permits(r, None, PERMISSION_ADMIN)) for r in (anonymous, user, admin)] == [
        False,
        False,
        True,
    ]
    assert not POLICY.permits(admin, None, "anything else")
