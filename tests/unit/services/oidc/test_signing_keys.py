"""The signing keys (docs/security.md 64): made on first use, encrypted at rest under a
key derived from the app's secret, published without private parts, and rotated with
overlap: a new key is published before it signs, and the old one stays published
after it stops signing until what it signed has expired."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import OidcKey
from app.services.composition import Services
from app.services.kernel.secret_keys import OIDC_SIGNING_KEYS, fernet_for
from app.services.oidc.signing_keys import (
    CACHE_FOR,
    PUBLISH_AHEAD,
    RETIRED_KEPT,
    KeyRing,
    SigningKeys,
)
from tests.conftest import SECRET
from tests.support import FakeClock

PRIVATE_PARTS = {"d", "p", "q", "dp", "dq", "qi"}


def keys_of(dbsession: Session, clock: FakeClock, secret: str = SECRET, **kw) -> SigningKeys:
    return SigningKeys(dbsession, clock, fernet_for(secret, OIDC_SIGNING_KEYS), KeyRing(), **kw)


def signing_kids(keys: SigningKeys) -> dict[str, str]:
    return {alg: key.kid for alg, key in keys.snapshot().signing.items()}


def published_kids(keys: SigningKeys) -> set[str]:
    return {key["kid"] for key in keys.snapshot().public}


def test_the_first_use_makes_one_key_of_each_algorithm_that_signs_at_once(
    services: Services, dbsession: Session
):
    snapshot = services.signing_keys.snapshot()
    assert set(snapshot.signing) == {"RS256", "ES256"}
    rows = list(dbsession.scalars(select(OidcKey)))
    assert sorted(row.algorithm for row in rows) == ["ES256", "RS256"]
    assert {key["kid"] for key in snapshot.public} == {row.kid for row in rows}


def test_private_keys_are_encrypted_at_rest_and_never_published(
    services: Services, dbsession: Session, clock: FakeClock
):
    services.signing_keys.snapshot()
    for row in dbsession.scalars(select(OidcKey)):
        assert b"PRIVATE KEY" not in row.private_key
        assert b"PRIVATE KEY" in fernet_for(SECRET, OIDC_SIGNING_KEYS).decrypt(row.private_key)
        assert not PRIVATE_PARTS & set(json.loads(row.public_jwk))
    for key in services.signing_keys.snapshot().public:
        assert not PRIVATE_PARTS & set(key)
    # Under another secret, the stored keys are useless: none is loaded or published,
    # and new ones are made instead.
    stored = {row.kid for row in dbsession.scalars(select(OidcKey))}
    other = keys_of(dbsession, clock, secret="another secret of at least 32 characters!!")
    assert set(other.snapshot().signing) == {"RS256", "ES256"}
    assert not published_kids(other) & stored


def test_a_rotation_publishes_the_new_key_before_it_signs(dbsession: Session, clock: FakeClock):
    keys = keys_of(dbsession, clock)
    before = signing_kids(keys)
    new = keys.rotate()
    assert set(new) <= published_kids(keys)
    assert signing_kids(keys) == before
    clock.advance(seconds=PUBLISH_AHEAD.total_seconds() + CACHE_FOR.total_seconds())
    assert set(signing_kids(keys).values()) == set(new)
    # The keys it replaced sign nothing now, but stay published for what they signed.
    assert set(before.values()) <= published_kids(keys)
    clock.advance(seconds=RETIRED_KEPT.total_seconds() + CACHE_FOR.total_seconds())
    assert not set(before.values()) & published_kids(keys)
    assert keys.prune() == 2
    assert {row.kid for row in dbsession.scalars(select(OidcKey))} == set(new)


def test_keys_are_rotated_on_schedule(dbsession: Session, clock: FakeClock):
    keys = keys_of(dbsession, clock, rotate_after=timedelta(days=90))
    first = signing_kids(keys)
    assert keys.ensure() == []
    clock.advance(days=89)
    assert keys.ensure() == []
    clock.advance(days=1)
    made = keys.ensure()
    assert len(made) == 2
    # Once: the rotation already pending is not started again.
    assert keys.ensure() == []
    clock.advance(seconds=PUBLISH_AHEAD.total_seconds() + 1)
    keys.ring.forget()
    assert set(signing_kids(keys).values()) == set(made)
    assert not set(first.values()) & set(signing_kids(keys).values())


def test_a_process_reads_the_keys_again_only_after_a_while(dbsession: Session, clock: FakeClock):
    keys = keys_of(dbsession, clock)
    first = keys.snapshot()
    assert keys.snapshot() is first
    clock.advance(seconds=CACHE_FOR.total_seconds())
    assert keys.snapshot() is not first


def test_a_rotation_of_an_algorithm_the_provider_does_not_sign_with_is_refused_by_name(
    dbsession: Session, clock: FakeClock
):
    keys = keys_of(dbsession, clock)
    before = signing_kids(keys)
    with pytest.raises(ValueError, match="^unsupported signing algorithm 'HS256'$"):
        keys.rotate(["HS256"])
    assert [row.retired_at for row in dbsession.scalars(select(OidcKey))] == [None, None]
    keys.ring.forget()
    assert signing_kids(keys) == before
