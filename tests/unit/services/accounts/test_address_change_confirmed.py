"""What confirming a new address ends: the links that were sent to the old address for
this account, and nothing of any other account (each test runs on SQLite and
PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.models import Account
from app.services.kernel.errors import CodeUsed
from app.services.passwords.hashing import PasswordHasher
from tests.conftest import STRONG_PASSWORD, make_services
from tests.factories import EMAIL
from tests.support import IP, LINK_PATTERN, FakeClock
from tests.support.outbox import body_text, emails_to

NEW = "new.address@example.org"
BOB = "bob@example.com"


def test_a_reset_link_sent_to_the_old_address_stops_working_once_the_new_one_is_confirmed(
    alice: Account, dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    services = make_services(dbsession, clock, hasher, ip=IP)
    services.accounts.create_account(BOB, STRONG_PASSWORD, email_verified=True)
    alices_reset = services.accounts.create_reset_code(EMAIL, IP)
    bobs_reset = services.accounts.create_reset_code(BOB, IP)
    assert alices_reset is not None and bobs_reset is not None
    services.email_changes.request(alice, STRONG_PASSWORD, NEW)
    [mail] = emails_to(dbsession, NEW)
    link = LINK_PATTERN.search(body_text(mail))
    assert link is not None

    services.email_changes.confirm(link.group(1), None)

    with pytest.raises(CodeUsed):
        services.accounts.check_reset_code(alices_reset)
    assert services.accounts.check_reset_code(bobs_reset).account.email == BOB
