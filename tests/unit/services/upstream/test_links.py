"""Links to accounts at other providers: found by subject only, never by address; one
subject links to one account; the last way in is never unlinked; the owner is told."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Account, OutgoingEmail, UpstreamIdentity
from app.services.kernel.errors import (
    EmailTaken,
    LastWayIn,
    UpstreamAddressUnverified,
    UpstreamIdentityInUse,
    UpstreamLinkUnknown,
    UpstreamRegistrationClosed,
)
from app.services.upstream.journeys import UpstreamAnswer
from tests.factories import add_passkey, make_account


def answer(subject: str = "sub-1", email: str | None = "new@example.com", verified: bool = True):
    return UpstreamAnswer(provider="google", subject=subject, email=email, email_verified=verified)


def emails_to(services, address: str) -> list[str]:
    return list(
        services.dbsession.scalars(
            select(OutgoingEmail.template).where(OutgoingEmail.recipient == address)
        )
    )


def test_an_account_is_found_by_the_subject_it_was_linked_with_not_by_address(services, alice):
    links = services.upstream_links
    assert links.linked_account(answer(email=alice.email)) is None
    links.link(alice, answer(subject="s-alice", email="whatever@example.org"))
    assert links.linked_account(answer(subject="s-alice", email=None)) is alice
    assert links.linked_account(answer(subject="s-other", email=alice.email)) is None
    [link] = links.links_of(alice)
    assert link.last_used_at is not None


def test_the_address_finds_an_account_only_when_the_provider_verified_it(services, alice):
    links = services.upstream_links
    assert links.account_with_address(answer(email=alice.email.upper())) is alice
    with pytest.raises(UpstreamAddressUnverified):
        links.account_with_address(answer(email=alice.email, verified=False))
    with pytest.raises(UpstreamAddressUnverified):
        links.account_with_address(answer(email=None))
    with pytest.raises(UpstreamAddressUnverified):
        links.account_with_address(answer(email="not an address"))


def test_a_subject_links_to_one_account_and_linking_again_changes_nothing(services, alice):
    links = services.upstream_links
    bob = make_account(services, "bob@example.com")
    first = links.link(alice, answer())
    assert links.link(alice, answer()).id == first.id
    with pytest.raises(UpstreamIdentityInUse):
        links.link(bob, answer())
    assert links.links_of(bob) == []
    assert emails_to(services, alice.email).count("upstream_linked") == 1


def test_unlinking_is_refused_when_it_is_the_last_way_in(services, clock):
    links = services.upstream_links
    account = links.create_account(answer())
    [link] = links.links_of(account)
    with pytest.raises(LastWayIn):
        links.unlink(account, link.id)
    # Another link is another way in.
    second = links.link(account, answer(subject="sub-2"))
    links.unlink(account, second.id)
    assert [one.id for one in links.links_of(account)] == [link.id]
    # So is a passkey, or a password.
    add_passkey(services, account)
    links.unlink(account, link.id)
    assert links.links_of(account) == []
    assert emails_to(services, account.email).count("upstream_unlinked") == 2


def test_a_password_is_a_way_in_too(services, alice):
    links = services.upstream_links
    link = links.link(alice, answer())
    links.unlink(alice, link.id)
    assert links.links_of(alice) == []


def test_only_the_accounts_own_links_are_unlinked(services, alice):
    links = services.upstream_links
    bob = make_account(services, "bob@example.com")
    link = links.link(bob, answer())
    with pytest.raises(UpstreamLinkUnknown):
        links.unlink(alice, link.id)
    with pytest.raises(UpstreamLinkUnknown):
        links.unlink(alice, 999999)
    assert len(links.links_of(bob)) == 1


def test_a_new_account_is_confirmed_has_no_password_and_is_linked(services):
    account = services.upstream_links.create_account(answer(email=" New@Example.com "))
    assert account.email == "new@example.com"
    assert account.password_hash is None and account.email_verified_at is not None
    assert [link.subject for link in services.upstream_links.links_of(account)] == ["sub-1"]


def test_no_new_account_for_an_address_that_has_one_or_when_registration_is_closed(services, alice):
    links = services.upstream_links
    with pytest.raises(EmailTaken):
        links.create_account(answer(email=alice.email))
    with pytest.raises(UpstreamAddressUnverified):
        links.create_account(answer(verified=False))
    links.allow_registration = False
    with pytest.raises(UpstreamRegistrationClosed):
        links.create_account(answer())
    count = services.dbsession.scalar(select(Account.id).where(Account.email == "new@example.com"))
    assert count is None
    assert services.dbsession.scalars(select(UpstreamIdentity)).all() == []


def test_a_new_account_whose_link_fails_is_not_kept(services, alice):
    links = services.upstream_links
    links.link(alice, answer(subject="taken"))
    with pytest.raises(UpstreamIdentityInUse):
        links.create_account(answer(subject="taken", email="fresh@example.com"))
    found = services.dbsession.scalar(select(Account).where(Account.email == "fresh@example.com"))
    assert found is None
