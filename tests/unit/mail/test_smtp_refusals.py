"""How an SMTP refusal is sorted: only one that retrying cannot change is permanent."""

from __future__ import annotations

import smtplib

import pytest

from app.mail.smtp_transport import PermanentFailure, SMTPTransport


@pytest.mark.parametrize(
    ("codes", "permanent"),
    [
        ([550], True),
        ([500], True),
        ([599], True),
        ([550, 553], True),
        ([499], False),
        ([600], False),
        ([550, 450], False),
        ([], False),
    ],
)
def test_only_a_refusal_of_every_recipient_with_a_5xx_answer_is_permanent(
    codes: list[int], permanent: bool
) -> None:
    refused = {f"r{n}@example.com": (code, b"no") for n, code in enumerate(codes)}
    original = smtplib.SMTPRecipientsRefused(refused)

    verdict = SMTPTransport._classified(original, refused)

    if permanent:
        assert isinstance(verdict, PermanentFailure)
        assert str(verdict) == f"recipient refused ({', '.join(map(str, codes))})"
    else:
        assert verdict is original
