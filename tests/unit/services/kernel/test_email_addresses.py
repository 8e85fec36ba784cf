"""clean_email: one plausible address, in one stored form, or InvalidEmail."""

from __future__ import annotations

import pytest

from app.services.kernel.email_addresses import MAX_EMAIL_LENGTH, InvalidEmail, clean_email


def address_of_length(length: int) -> str:
    """A well-formed address of exactly `length` characters (local part 64, labels <= 63)."""
    local = "a" * 64
    tail_length = length - len(local) - 1 - len(".com")
    labels = []
    while tail_length > 0:
        size = min(63, tail_length)
        labels.append("b" * size)
        tail_length -= size + 1
    address = f"{local}@{'.'.join(labels)}.com"
    assert len(address) == length, len(address)
    return address


def test_email_is_lower_cased_and_trimmed() -> None:
    assert clean_email("  Alice@Example.COM \t") == "alice@example.com"


def test_plain_address_is_kept_as_is() -> None:
    assert clean_email("bob.smith+tag@mail.example.org") == "bob.smith+tag@mail.example.org"


@pytest.mark.parametrize(
    "raw",
    [
        "v@x.com\r\nBcc: a@evil.test",
        "v@x.com\nBcc: a@evil.test",
        "v@x.com\rBcc: a@evil.test",
    ],
    ids=["crlf", "lf", "cr"],
)
def test_header_injection_is_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        clean_email(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "v@x.com,a@evil.test",
        "v@x.com;a@evil.test",
        "a@x.com b@y.com",
        "a@x.com\tb@y.com",
        "Victim <v@x.com>, a@evil.test",
    ],
)
def test_several_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        clean_email(raw)


@pytest.mark.parametrize("raw", ["v\x00@x.com", "v@x.com\x00", "v@x\x00.com", "\x00"])
def test_nul_bytes_are_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        clean_email(raw)


def test_address_of_254_characters_is_accepted() -> None:
    address = address_of_length(MAX_EMAIL_LENGTH)

    assert MAX_EMAIL_LENGTH == 254
    assert clean_email(address) == address


def test_address_over_254_characters_is_refused() -> None:
    with pytest.raises(InvalidEmail, match="254"):
        clean_email(address_of_length(255))


def test_megabyte_address_is_refused() -> None:
    with pytest.raises(InvalidEmail):
        clean_email("a" * 1_000_000 + "@example.com")


@pytest.mark.parametrize(
    "raw", ["", "   ", "alice.example.com", "alice@", "@example.com", "alice@.com", "alice@@x.com"]
)
def test_address_without_local_part_at_sign_or_domain_is_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        clean_email(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "<script>@x.com",
        "<script>alert(1)</script>@x.com",
        "a@x.com<script>",
        '"><img src=x onerror=alert(1)>@x.com',
        "a@<b>.com",
    ],
)
def test_markup_is_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        clean_email(raw)


def test_combining_accent_and_precomposed_letter_give_the_same_address() -> None:
    decomposed = clean_email("alice@cafe\u0301.example")
    precomposed = clean_email("alice@caf\u00e9.example")

    assert decomposed == precomposed == "alice@caf\u00e9.example"


def test_a_local_part_that_is_not_ascii_is_refused_because_it_may_not_be_deliverable() -> None:
    """docs/security.md 51: it would need SMTPUTF8, which many servers lack."""
    for address in ("j\u00fcrgen@example.com", "e\u0301@x.com", "\u0430lice@example.com"):
        with pytest.raises(InvalidEmail, match="before the @"):
            clean_email(address)


ONE_ADDRESS = "Enter one email address like name@example.com."


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter your email address."),
        (" \t ", "Enter your email address."),
        ("a" * 243 + "@example.com", "An email address has at most 254 characters."),
        ("v@x.com,a@evil.test", ONE_ADDRESS),
        ("v@x.com\r\nBcc: a@evil.test", ONE_ADDRESS),
        ("ali\u200bce@example.com", ONE_ADDRESS),
        ("alice\u00a0@example.com", ONE_ADDRESS),
        ("no-at-sign.example.com", ONE_ADDRESS),
        ('"quoted"@example.com', ONE_ADDRESS),
        ("alice@[192.0.2.1]", ONE_ADDRESS),
        (
            "j\u00fcrgen@example.com",
            "Use an address whose part before the @ has only plain letters, digits and"
            " punctuation: mail to other addresses cannot be delivered everywhere.",
        ),
    ],
)
def test_each_refusal_tells_the_user_what_to_change(raw: str, message: str) -> None:
    with pytest.raises(InvalidEmail) as caught:
        clean_email(raw)

    assert str(caught.value) == message


def test_invisible_and_direction_characters_are_refused():
    for sneaky in (
        "ali\u200bce@example.com",  # zero-width space
        "alice@example.com\u202e",  # right-to-left override
        "alice\u00a0@example.com",  # no-break space
        "ali\u2060ce@example.com",  # word joiner
    ):
        with pytest.raises(InvalidEmail):
            clean_email(sneaky)
