"""The keys that sign the provider's tokens (docs/security.md 64).

An RS256 and an ES256 key are made the first time they are needed. The private parts
are kept PEM-encoded and Fernet-encrypted with a key derived from the app's secret; the
JWKS document publishes only the public parts. Rotation publishes a new key first and
lets it sign only after PUBLISH_AHEAD (the time clients may keep the old JWKS); the key
it replaces signs nothing from then on and stays published for RETIRED_KEPT, longer than
any token it signed lives."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from joserfc.jwk import ECKey, KeyParameters, KeySet, RSAKey
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from app.models import OidcKey
from app.services.kernel.clock import Clock

ALGORITHMS = ("RS256", "ES256")
# How long clients may cache the JWKS (its Cache-Control max-age), and so how long a new
# key is published before it signs.
JWKS_MAX_AGE = timedelta(hours=1)
# (plus the time a process keeps what it read of the keys, CACHE_FOR).
PUBLISH_AHEAD = JWKS_MAX_AGE + timedelta(seconds=60)
# The longest-lived token a key signs is an ID token (ID_TOKEN_LIFETIME); a retired key
# stays published a while beyond that.
RETIRED_KEPT = timedelta(hours=2)
DEFAULT_ROTATION = timedelta(days=90)
# How long a process trusts what it read of the keys before it reads them again.
CACHE_FOR = timedelta(seconds=60)

Jwk = RSAKey | ECKey


def _generate(algorithm: str) -> Jwk:
    parameters: KeyParameters = {"alg": algorithm, "use": "sig"}
    key: Jwk
    if algorithm == "RS256":
        key = RSAKey.generate_key(2048, parameters=parameters, private=True)
    elif algorithm == "ES256":
        key = ECKey.generate_key("P-256", parameters=parameters, private=True)
    else:
        raise ValueError(f"unsupported signing algorithm {algorithm!r}")
    # The RFC 7638 thumbprint names the key: unique, and says nothing else.
    key.ensure_kid()
    return key


def _load(row: OidcKey, cipher: Fernet) -> Jwk:
    pem = cipher.decrypt(row.private_key)
    parameters: KeyParameters = {"kid": row.kid, "alg": row.algorithm, "use": "sig"}
    if row.algorithm == "RS256":
        return RSAKey.import_key(pem, parameters=parameters)
    return ECKey.import_key(pem, parameters=parameters)


@dataclass(frozen=True)
class KeySnapshot:
    """What one process knows of the keys, read at `read_at`."""

    read_at: datetime
    # The key each algorithm signs with now.
    signing: dict[str, Jwk]
    # Every published public key, as the JWKS document lists them.
    public: list[dict[str, Any]]
    # Every published key, to verify what was signed here (an id_token_hint, an access
    # token at the userinfo endpoint).
    verifying: KeySet


class SigningKeys:
    """The keys in the database, read through a per-process cache (KeyRing)."""

    def __init__(
        self,
        dbsession: Session,
        clock: Clock,
        cipher: Fernet,
        ring: KeyRing | None = None,
        rotate_after: timedelta = DEFAULT_ROTATION,
    ) -> None:
        self.dbsession = dbsession
        self.clock = clock
        self.cipher = cipher
        self.ring = ring or KeyRing()
        self.rotate_after = rotate_after

    def _published(self, now: datetime) -> list[OidcKey]:
        return list(
            self.dbsession.scalars(
                select(OidcKey)
                .where(or_(OidcKey.retired_at.is_(None), OidcKey.retired_at > now - RETIRED_KEPT))
                .order_by(OidcKey.not_before.desc(), OidcKey.id.desc())
            )
        )

    def _add(self, algorithm: str, not_before: datetime) -> OidcKey:
        key = _generate(algorithm)
        row = OidcKey(
            kid=key.kid,
            algorithm=algorithm,
            private_key=self.cipher.encrypt(key.as_pem(private=True)),
            public_jwk=json.dumps(key.as_dict(private=False), sort_keys=True),
            created_at=self.clock.now(),
            not_before=not_before,
        )
        self.dbsession.add(row)
        self.dbsession.flush()
        return row

    def ensure(self) -> list[str]:
        """Make a key for each algorithm that has none (signing at once: nothing was
        signed before), and rotate any whose signing key is older than rotate_after
        (the schedule: the app checks when it starts, the pruner every run). The kids
        of the keys made."""
        now = self.clock.now()
        rotate_after = self.rotate_after
        made: list[str] = []
        published = self._published(now)
        for algorithm in ALGORITHMS:
            mine = [row for row in published if row.algorithm == algorithm]
            if not mine:
                made.append(self._add(algorithm, now).kid)
                continue
            pending = [row for row in mine if row.not_before > now]
            current = [row for row in mine if row.not_before <= now and row.retired_at is None]
            if not pending and current and now - current[0].not_before >= rotate_after:
                made.extend(self.rotate([algorithm]))
        if made:
            self.ring.forget()
        return made

    def rotate(self, algorithms: list[str] | None = None) -> list[str]:
        """Publish a new key for each algorithm; it signs after PUBLISH_AHEAD, when the
        keys it replaces retire. The kids of the new keys."""
        now = self.clock.now()
        starts = now + PUBLISH_AHEAD
        made = []
        for algorithm in algorithms or list(ALGORITHMS):
            if algorithm not in ALGORITHMS:
                raise ValueError(f"unsupported signing algorithm {algorithm!r}")
            for row in self._published(now):
                if row.algorithm == algorithm and row.retired_at is None:
                    row.retired_at = starts
            made.append(self._add(algorithm, starts).kid)
        self.dbsession.flush()
        self.ring.forget()
        return made

    def prune(self) -> int:
        """Delete keys retired longer ago than anything they signed can live."""
        now = self.clock.now()
        result = self.dbsession.execute(
            delete(OidcKey).where(OidcKey.retired_at <= now - RETIRED_KEPT)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def snapshot(self) -> KeySnapshot:
        """The keys as this process knows them, read again at most every CACHE_FOR."""
        now = self.clock.now()
        cached = self.ring.current(now)
        if cached is not None:
            return cached
        rows = self._published(now)
        if not {row.algorithm for row in rows if row.not_before <= now} >= set(ALGORITHMS):
            self.ensure()
            # The keys just made sign from the moment ensure() read the clock.
            now = self.clock.now()
            rows = self._published(now)
        signing: dict[str, Jwk] = {}
        loaded: list[Any] = []
        for row in rows:
            try:
                key = _load(row, self.cipher)
            except (InvalidToken, ValueError):
                # Encrypted under another secret: useless here, and never published.
                continue
            loaded.append(key)
            live = row.not_before <= now and (row.retired_at is None or row.retired_at > now)
            if live and row.algorithm not in signing:
                signing[row.algorithm] = key
        for algorithm in ALGORITHMS:
            if algorithm not in signing:
                # Every key of it is unreadable here (the app's secret was changed): a
                # new one signs at once, as on a new database.
                fresh = _load(self._add(algorithm, now), self.cipher)
                signing[algorithm] = fresh
                loaded.append(fresh)
        snapshot = KeySnapshot(
            read_at=now,
            signing=signing,
            public=[key.as_dict(private=False) for key in loaded],
            verifying=KeySet(loaded),
        )
        self.ring.keep(snapshot)
        return snapshot


class KeyRing:
    """One process's copy of the keys, so that signing and the JWKS document cost no
    database read or decryption on most requests."""

    def __init__(self, cache_for: timedelta = CACHE_FOR) -> None:
        self.cache_for = cache_for
        self._snapshot: KeySnapshot | None = None
        self._lock = threading.Lock()

    def current(self, now: datetime) -> KeySnapshot | None:
        with self._lock:
            snapshot = self._snapshot
        if snapshot is None or not (snapshot.read_at <= now < snapshot.read_at + self.cache_for):
            return None
        return snapshot

    def keep(self, snapshot: KeySnapshot) -> None:
        with self._lock:
            self._snapshot = snapshot

    def forget(self) -> None:
        with self._lock:
            self._snapshot = None
