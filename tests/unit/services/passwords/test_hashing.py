"""The password hasher as the app builds it: OWASP's argon2id parameters, and a pool that
runs at most one hash computation per worker (one per core) at a time."""

from __future__ import annotations

import os
import threading
import time
import warnings

from passlib.hash import pbkdf2_sha256

from app.services.passwords.hashing import PasswordHasher, make_crypt_context
from tests.conftest import CHEAP_ARGON2, STRONG_PASSWORD


class ConcurrencyProbe:
    """A CryptContext stand-in that notes how many computations run at once, and on
    which threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.threads: set[str] = set()

    def _compute(self) -> None:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)
        time.sleep(0.05)
        with self._lock:
            self.running -= 1

    def hash(self, secret: str) -> str:
        self._compute()
        return "$probe$" + secret

    def verify(self, secret: str, stored: str) -> bool:
        self._compute()
        return stored == "$probe$" + secret

    def verify_and_update(self, secret: str, stored: str) -> tuple[bool, str | None]:
        return self.verify(secret, stored), None


def _hash_at_once(hasher: PasswordHasher, how_many: int) -> None:
    threads = [
        threading.Thread(target=hasher.hash, args=(f"password number {n}",))
        for n in range(how_many)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_the_default_hasher_makes_argon2id_hashes_with_owasp_parameters() -> None:
    hasher = PasswordHasher()

    stored = hasher.hash(STRONG_PASSWORD)

    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify(STRONG_PASSWORD, stored) == (True, None)
    matches, upgraded = hasher.verify(STRONG_PASSWORD, pbkdf2_sha256.hash(STRONG_PASSWORD))
    assert matches and upgraded is not None and upgraded.startswith("$argon2id$")


def test_building_the_hashing_context_raises_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        context = make_crypt_context(**CHEAP_ARGON2)

    assert context.schemes() == ("argon2", "pbkdf2_sha256")


def test_a_hasher_with_two_workers_runs_at_most_two_computations_at_once() -> None:
    probe = ConcurrencyProbe()
    hasher = PasswordHasher(context=probe, concurrency=2)  # type: ignore[arg-type]
    probe.most, probe.threads = 0, set()  # the dummy hash made at start-up does not count

    _hash_at_once(hasher, 6)

    assert probe.most == 2
    assert all(name.startswith("argon2") for name in probe.threads)


def test_by_default_the_hasher_has_one_worker_per_core() -> None:
    probe = ConcurrencyProbe()
    hasher = PasswordHasher(context=probe)  # type: ignore[arg-type]
    probe.most = 0
    cores = os.cpu_count() or 1

    _hash_at_once(hasher, cores + 3)

    assert probe.most == cores


def test_the_verification_for_an_unknown_address_runs_in_the_pool_like_a_real_one() -> None:
    probe = ConcurrencyProbe()
    hasher = PasswordHasher(context=probe)  # type: ignore[arg-type]
    probe.threads.clear()

    hasher.dummy_verify()

    assert len(probe.threads) == 1
    assert next(iter(probe.threads)).startswith("argon2")
