"""A code waiting in the session is unreadable, tamper-evident and short-lived
(docs/security.md 38)."""

from __future__ import annotations

import time

from app.web.pending_codes import MAX_AGE_SECONDS, PendingCodes
from tests.conftest import SECRET

CODE = "e3Z0uM9Qvq2zX8hL1mT0aQ7sK4fYb6Wd5nR2cV9pJ1g"


def test_a_kept_code_is_read_back_but_is_not_in_the_session_in_clear():
    session: dict[str, str] = {}
    PendingCodes(SECRET).keep(session, "reset_code", CODE)
    assert CODE not in repr(session)
    assert PendingCodes(SECRET).read(session, "reset_code") == CODE


def test_a_code_kept_by_another_secret_or_altered_is_not_read():
    session: dict[str, str] = {}
    PendingCodes("another secret of enough length").keep(session, "reset_code", CODE)
    assert PendingCodes(SECRET).read(session, "reset_code") is None
    PendingCodes(SECRET).keep(session, "reset_code", CODE)
    session["reset_code"] = session["reset_code"][:-4] + "AAAA"
    assert PendingCodes(SECRET).read(session, "reset_code") is None
    session["reset_code"] = CODE
    assert PendingCodes(SECRET).read(session, "reset_code") is None


def test_a_kept_code_lapses_after_an_hour(monkeypatch):
    session: dict[str, str] = {}
    PendingCodes(SECRET).keep(session, "reset_code", CODE)
    later = time.time() + MAX_AGE_SECONDS + 61
    monkeypatch.setattr(time, "time", lambda: later)
    assert PendingCodes(SECRET).read(session, "reset_code") is None
