"""The fixtures the unit tests of the services share: Alice's account, a second
connection, other engines and sessions on the test database, and signs_in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.models import Account, get_engine, get_session_factory
from app.services.composition import Services
from tests.factories import EMAIL, make_account
from tests.support import SignsIn


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine of its own on the test database, as another process would have."""
    engine = get_engine({"sqlalchemy.url": db_url})
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions of their own on the test database, as a background thread makes them."""
    return get_session_factory(engine)


@pytest.fixture
def other_dbsession(db_url: str) -> Iterator[Session]:
    """A second connection to the same database, as a second request would have."""
    engine = get_engine({"sqlalchemy.url": db_url})
    session = get_session_factory(engine)()
    yield session
    session.close()
    engine.dispose()


@pytest.fixture
def alice(services: Services) -> Account:
    return make_account(services, EMAIL)


@pytest.fixture
def signs_in(services: Services) -> SignsIn:
    """Whether this email and password would sign in now."""

    def check(email: str, password: str) -> bool:
        return services.authentication.get_authenticated_account(email, password) is not None

    return check
