"""docs/security.md 43 under races: one answer to one challenge, sent twice at the same
moment from two requests, signs in once (on SQLite and PostgreSQL). For a synced passkey,
whose counter never moves, the answered challenge is all that stops the second."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import WebAuthnCredential
from app.services.kernel.errors import PasskeyRefused
from app.services.mfa import webauthn_protocol
from tests.conftest import make_services
from tests.factories import add_passkey, passkey_answer


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


def test_an_answer_whose_key_was_counted_by_another_request_meanwhile_is_refused(
    services, alice, dbsession: Session, monkeypatch: pytest.MonkeyPatch
):
    """Two answers of one key (a copy's and the original's) to two challenges: the one
    whose counter was read before the other's was kept is refused, and the counter stays
    where the other left it."""
    key = add_passkey(services, alice)
    [passkey] = services.passkeys.for_account(alice.id)
    other_count = passkey.sign_count + 10
    check = webauthn_protocol.check_assertion

    def checked_while_another_is_counted(*args, **kwargs) -> int:
        new = check(*args, **kwargs)
        dbsession.execute(
            update(WebAuthnCredential)
            .where(WebAuthnCredential.id == passkey.id)
            .values(sign_count=other_count)
            .execution_options(synchronize_session=False)
        )
        return new

    monkeypatch.setattr(webauthn_protocol, "check_assertion", checked_while_another_is_counted)
    answer, challenge = passkey_answer(services, key, alice)

    with pytest.raises(PasskeyRefused) as refused:
        services.passkeys.verify(answer, challenge, alice, require_user_verification=False)

    assert (refused.value.code, str(refused.value)) == (
        "passkey_just_used",
        "This passkey was just used. Try again.",
    )
    assert passkey.sign_count == other_count
