"""docs/security.md 43 under races: one answer to one challenge, sent twice at the same
moment from two requests, signs in once (on SQLite and PostgreSQL). For a synced passkey,
whose counter never moves, the answered challenge is all that stops the second."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy.orm import Session

from app.services.kernel.errors import PasskeyRefused
from tests.conftest import make_services
from tests.factories import add_passkey


@pytest.mark.parametrize("counter_step", [0, 1], ids=["synced passkey", "counting key"])
def test_one_answer_sent_twice_at_once_is_accepted_once(
    services, alice, dbsession: Session, other_dbsession: Session, clock, hasher, counter_step
):
    device = add_passkey(services, alice, counter_step=counter_step)
    dbsession.commit()
    signing_in = services.passkeys.authentication_ceremony()
    answer = device.get(json.loads(signing_in.options_json))

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def request(session: Session) -> None:
        passkeys = make_services(session, clock, hasher).passkeys
        barrier.wait()
        try:
            passkeys.verify(answer, signing_in.challenge, require_user_verification=True)
            session.commit()
            outcomes.append("signed in")
        except PasskeyRefused:
            session.commit()  # the refusal's event is kept
            outcomes.append("refused")

    threads = [
        threading.Thread(target=request, args=(session,))
        for session in (dbsession, other_dbsession)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["refused", "signed in"]
