"""Recovery codes: how they are made and compared (docs/security.md 41)."""

from __future__ import annotations

import re

from app.services.mfa.two_factor import (
    RECOVERY_CODE_LENGTH,
    RECOVERY_CODES_PER_SET,
    new_recovery_code,
    normalize_recovery_code,
)


def test_a_set_has_ten_codes_of_a_hundred_random_bits_grouped_for_reading():
    assert RECOVERY_CODES_PER_SET == 10
    codes = {new_recovery_code() for _ in range(1000)}
    assert len(codes) == 1000
    for code in codes:
        assert re.fullmatch(r"[a-z2-7]{5}(-[a-z2-7]{5}){3}", code)
    # 20 characters of base32, 5 bits each.
    assert RECOVERY_CODE_LENGTH * 5 >= 80


def test_a_code_is_compared_without_case_spaces_or_dashes():
    assert normalize_recovery_code(" ABCDE-fghij klmno\tpqrst ") == "abcdefghijklmnopqrst"
