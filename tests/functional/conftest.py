from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.models import Account
from tests.conftest import STRONG_PASSWORD, new_client
from tests.functional.flows import create_account, db, sign_in
from tests.redis_server import start_redis

# The administrator of the admin tests (test_admin.py, test_admin_clients.py).
ADMIN = "admin@example.com"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    yield from start_redis()


@pytest.fixture
def admin_app(wsgi_app):
    """The app with one administrator, ADMIN, whose password is STRONG_PASSWORD."""
    admin_id = create_account(wsgi_app, ADMIN, STRONG_PASSWORD)
    with db(wsgi_app) as session, session.begin():
        session.get(Account, admin_id).is_admin = True
    return wsgi_app


@pytest.fixture
def admin(admin_app):
    """A browser signed in as ADMIN."""
    client = new_client(admin_app, ip="192.0.2.200")
    sign_in(client, ADMIN, STRONG_PASSWORD)
    return client
