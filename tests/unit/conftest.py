"""What the unit tests of the account services share: Alice's account, a second
connection, and ways to look at what a service did."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.mail.templates import MailTemplates
from app.models import Account, OutgoingEmail, get_engine, get_session_factory
from app.services.composition import Services
from app.services.notices.outbox import outbox_cipher
from tests.conftest import SECRET
from tests.factories import EMAIL, make_account

IP = "198.51.100.23"
THIRD_PASSWORD = "violet harbor mosaic drifting"

SignsIn = Callable[[str, str], bool]


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


def emails_to(dbsession: Session, recipient: str) -> list[OutgoingEmail]:
    return list(
        dbsession.scalars(
            select(OutgoingEmail)
            .where(OutgoingEmail.recipient == recipient)
            .order_by(OutgoingEmail.id)
        )
    )


def body_text(message: OutgoingEmail) -> str:
    """The text of a queued email, rendered as the sender will render it."""
    assert message.template is not None and message.payload is not None
    params = json.loads(outbox_cipher(SECRET).decrypt(message.payload))
    return MailTemplates().render(message.template, params).text


def count(dbsession: Session, model: Any) -> int:
    return dbsession.scalar(select(func.count()).select_from(model))
