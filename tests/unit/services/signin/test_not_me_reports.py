"""The owner's "this wasn't me" report, through NewDeviceAlerts (on SQLite and PostgreSQL):
what it takes from whoever signed in, what it leaves the owner, and what it records."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import PURPOSE_CHANGE_EMAIL, PURPOSE_NOT_ME, Account, AccountEvent, OneTimeCode
from app.services.admin.account_admin import account_status
from app.services.composition import Services
from app.services.kernel import audit as events
from app.services.kernel.errors import CodeUsed
from app.services.passwords.hashing import PasswordHasher
from tests.conftest import STRONG_PASSWORD, make_services
from tests.factories import add_passkey
from tests.support import IP, FakeClock
from tests.support.outbox import emails_to

OWNER = "owner@example.com"
NEW = "intruder@example.net"


@pytest.fixture
def owner(services: Services) -> Account:
    return services.accounts.create_account(OWNER, STRONG_PASSWORD, email_verified=True)


def test_a_report_removes_every_passkey_added_since_the_sign_in_and_keeps_older_ones(
    services: Services, owner: Account, dbsession: Session, clock: FakeClock
) -> None:
    add_passkey(services, owner, "Owner's laptop")
    clock.advance(minutes=1)
    code = services.codes.create(owner, PURPOSE_NOT_ME, None)
    clock.advance(minutes=1)
    add_passkey(services, owner, "Intruder's phone")
    add_passkey(services, owner, "Intruder's key")

    services.new_device_alerts.report(code)

    assert [p.name for p in services.passkeys.for_account(owner.id)] == ["Owner's laptop"]
    [reported] = dbsession.scalars(
        select(AccountEvent).where(AccountEvent.kind == events.NOT_ME_REPORTED)
    )
    assert (reported.account_id, reported.details) == (owner.id, {"factors_removed": 2})


def test_a_report_voids_the_password_and_the_links_asked_for_meanwhile(
    owner: Account, dbsession: Session, clock: FakeClock, hasher: PasswordHasher
) -> None:
    setup = make_services(dbsession, clock, hasher)
    code = setup.codes.create(owner, PURPOSE_NOT_ME, None)
    clock.advance(minutes=5)
    change = setup.codes.create(owner, PURPOSE_CHANGE_EMAIL, None, new_email=NEW)
    clock.advance(minutes=5)

    reported = make_services(dbsession, clock, hasher, ip=IP).new_device_alerts.report(code)

    assert reported is owner
    with pytest.raises(CodeUsed):
        make_services(dbsession, clock, hasher).email_changes.confirm(change, None)
    assert owner.email == OWNER
    # The password is one nobody knows, changed now; the account is not an invitation.
    assert setup.authentication.get_authenticated_account(owner.email, STRONG_PASSWORD) is None
    assert owner.password_changed_at == clock.now()
    assert account_status(owner) == "active"
    spent_from = dbsession.scalars(
        select(OneTimeCode.used_ip).where(OneTimeCode.purpose == PURPOSE_NOT_ME)
    ).all()
    assert spent_from == [IP]
    assert [m.template for m in emails_to(dbsession, owner.email)] == ["password_reset"]


def test_a_report_unlinks_the_providers_linked_since_the_sign_in_and_keeps_older_ones(
    services: Services, owner: Account, clock: FakeClock
) -> None:
    from app.services.upstream.journeys import UpstreamAnswer

    def linked(subject: str) -> UpstreamAnswer:
        return UpstreamAnswer(provider="google", subject=subject, email=None, email_verified=False)

    services.upstream_links.link(owner, linked("owner-at-google"))
    clock.advance(minutes=1)
    code = services.codes.create(owner, PURPOSE_NOT_ME, None)
    clock.advance(minutes=1)
    services.upstream_links.link(owner, linked("intruder-at-google"))

    services.new_device_alerts.report(code)

    assert [link.subject for link in services.upstream_links.links_of(owner)] == ["owner-at-google"]


def test_a_report_spends_the_undo_links_of_changes_made_since_the_sign_in(
    services: Services, owner: Account, dbsession: Session
) -> None:
    from app.models import PURPOSE_UNDO_EMAIL_CHANGE

    older = services.codes.create(owner, PURPOSE_UNDO_EMAIL_CHANGE, None, "before@example.com")
    code = services.codes.create(owner, PURPOSE_NOT_ME, None)
    newer = services.codes.create(owner, PURPOSE_UNDO_EMAIL_CHANGE, None, "intruder@example.net")

    services.new_device_alerts.report(code)

    assert services.new_device_alerts.check_undo_code(older)[1] == "before@example.com"
    with pytest.raises(CodeUsed):
        services.new_device_alerts.check_undo_code(newer)
