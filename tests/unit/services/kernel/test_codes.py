"""Reset codes and session tokens: 256 random bits, URL-safe, stored only as SHA-256."""

from __future__ import annotations

import base64
import hashlib
import re

from app.services.kernel.codes import digest, new_code

URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def test_a_thousand_codes_are_all_different() -> None:
    codes = [new_code() for _ in range(1000)]

    assert len(set(codes)) == 1000


def test_every_code_is_at_least_43_url_safe_characters() -> None:
    for code in (new_code() for _ in range(1000)):
        assert len(code) >= 43, code
        assert URL_SAFE.fullmatch(code), code


def test_a_code_carries_256_random_bits() -> None:
    # 43 characters of base64url are 32 bytes: nothing shorter hides behind the length.
    code = new_code()

    assert len(base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))) >= 32


def test_codes_share_no_fixed_prefix_or_suffix() -> None:
    # A timestamp, counter or user id inside a code would show as a common prefix or suffix.
    codes = [new_code() for _ in range(1000)]

    assert len({code[:4] for code in codes}) > 900
    assert len({code[-4:] for code in codes}) > 900


def test_digest_is_the_sha256_hex_of_the_code() -> None:
    code = new_code()

    assert digest(code) == hashlib.sha256(code.encode("ascii")).hexdigest()
    assert digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_digest_does_not_contain_the_code() -> None:
    code = new_code()

    assert code not in digest(code)
    assert re.fullmatch(r"[0-9a-f]{64}", digest(code))


def test_a_typed_code_that_utf8_cannot_encode_still_has_a_digest() -> None:
    # A lone surrogate (an undecodable byte in a Python string) is looked up and not
    # found like any wrong code, instead of failing with an encoding error.
    typed = "abc\udcff"

    assert digest(typed) == hashlib.sha256(b"abc\xed\xb3\xbf").hexdigest()
    assert digest(typed) != digest("abc")
