"""The strength estimate has a bounded cost whatever the password (docs/security.md 28),
and the bound never turns a weak password into an accepted one."""

from __future__ import annotations

import random
import string
import threading

import pytest
from zxcvbn_rs_py import zxcvbn

from app.services.passwords import strength as password_strength
from app.services.passwords.strength import (
    BUDGET,
    ESTIMATED_LENGTH,
    FALLBACK_WARNING,
    StrengthEstimate,
    _before_inputs,
    _before_repeats,
    _enumerated_tables,
    _without_multiplying_symbols,
    affordable_prefix,
    clean_cut,
    cost,
    estimate_strength,
    l33t_tables,
)

USER_INPUTS = ["alice.smith@example.com", "alice.smith"]
ATTACK = ("!$%(+0123456789<@[{|" * 10)[:128]
# The fifteen characters that make zxcvbn enumerate its most tables, then filler that
# costs it the most per character.
WORST = "!$(+145679<@[{|"
EMOJI = "".join(chr(0x1F600 + i % 64) for i in range(128))
WORST_INPUTS = [
    ATTACK,
    ATTACK[:20],
    ATTACK[:40],
    (WORST + EMOJI)[:128],
    (WORST + EMOJI)[:100],
    (EMOJI[:113] + WORST),
    ("+17|" + EMOJI)[:128],
    ("$(+1457<@[|" + EMOJI)[:128],
    "".join(random.Random(7).choice(WORST + "abc") for _ in range(128)),
]


@pytest.fixture
def zxcvbn_calls(monkeypatch) -> list[tuple[str, list[str]]]:
    """Every call the estimate makes to zxcvbn, in order: (password, user inputs)."""
    calls: list[tuple[str, list[str]]] = []

    def recording(candidate, user_inputs):
        calls.append((candidate, list(user_inputs)))
        return zxcvbn(candidate, user_inputs)

    monkeypatch.setattr(password_strength, "zxcvbn", recording)
    return calls


def test_the_table_count_follows_the_l33t_characters_present():
    assert l33t_tables("correct horse battery staple") == 1
    assert l33t_tables("0123456789") == 8  # digits alone
    assert l33t_tables(WORST) == 800  # the most there can be
    assert l33t_tables(ATTACK) == 800


@pytest.mark.parametrize("password", WORST_INPUTS, ids=range(len(WORST_INPUTS)))
def test_any_password_up_to_the_maximum_gets_its_verdict_within_the_budget(password, zxcvbn_calls):
    """Whatever the password, the work given to zxcvbn (the table count times the
    length squared, on every call of one verdict) stays within BUDGET."""
    estimate_strength(password, USER_INPUTS)
    seen = [candidate for candidate, _ in zxcvbn_calls]
    assert seen and all(len(p) <= ESTIMATED_LENGTH for p in seen)
    assert sum(zxcvbn_work(p) for p in seen) <= BUDGET


def test_a_long_password_whose_work_fits_the_budget_is_estimated_whole(zxcvbn_calls):
    # Sixteen tables (the digits, and "4" with "@") over 95 characters: within the
    # budget by the measurement, so one call on the whole password, no second pass.
    rng = random.Random(3)
    password = "0123456789@" + "".join(rng.choice("bcdfghjkmnpqrvwxyz") for _ in range(84))
    assert l33t_tables(password) == 16
    assert zxcvbn_work(password) <= BUDGET

    estimate_strength(password, USER_INPUTS)
    assert [candidate for candidate, _ in zxcvbn_calls] == [password]


def test_an_empty_password_is_the_weakest_there_is():
    assert estimate_strength("", USER_INPUTS) == StrengthEstimate(0, FALLBACK_WARNING, [])


def test_both_passes_see_the_users_own_words(zxcvbn_calls):
    estimate_strength(ATTACK, USER_INPUTS)

    (prefix, prefix_inputs), (reduced, reduced_inputs) = zxcvbn_calls
    assert ATTACK.startswith(prefix) and prefix_inputs == USER_INPUTS
    # The second pass replaced the symbols (the address's "@" among them) in the user's
    # words as in the password, so that they still match.
    replaced = str.maketrans({a: b for a, b in zip(ATTACK, reduced, strict=False) if a != b})
    assert ord("@") in replaced and reduced_inputs == [u.translate(replaced) for u in USER_INPUTS]


def test_a_password_beginning_with_more_of_the_users_address_than_can_be_read_is_weakest(
    zxcvbn_calls,
):
    # Expensive characters the local part of an address may hold, more of them than the
    # first pass can afford: its cut falls inside the user's own word, so it moves back
    # to the start and leaves the first pass nothing to read.
    local = ("!$+145679{|" * 6)[:64]

    estimate = estimate_strength(local + "qzxkvbwrmn", [local + "@example.com", local])

    assert estimate == StrengthEstimate(0, FALLBACK_WARNING, [])
    assert len(zxcvbn_calls) == 1  # the second pass only


@pytest.mark.parametrize(
    ("first", "second", "verdict"),
    [
        # The lower score wins, with its own reason.
        ((2, "w1", ["s1"]), (1, "w2", ["s2"]), (1, "w2", ["s2"])),
        ((1, "w1", ["s1"]), (2, "w2", ["s2"]), (1, "w1", ["s1"])),
        # On a tie, the first pass's.
        ((1, "w1", ["s1"]), (1, "w2", ["s2"]), (1, "w1", ["s1"])),
        # A weak verdict without a reason takes the other's, if it is weak too.
        ((1, "", []), (2, "w2", ["s2"]), (1, "w2", ["s2"])),
        ((1, "", ["s1"]), (2, "w2", ["s2"]), (1, "w2", ["s1"])),
        ((1, "", ["s1"]), (3, "w2", ["s2"]), (1, "", ["s1"])),
        ((1, "", ["s1"]), (2, "", ["s2"]), (1, "", ["s1"])),
    ],
)
def test_of_the_two_passes_the_weaker_verdict_is_given(monkeypatch, first, second, verdict):
    passes = iter([StrengthEstimate(*first), StrengthEstimate(*second)])
    monkeypatch.setattr(password_strength, "_zxcvbn", lambda *args: next(passes))

    assert estimate_strength(ATTACK, USER_INPUTS) == StrengthEstimate(*verdict)


def zxcvbn_work(password: str) -> float:
    """The work zxcvbn-rs-py 0.3 does on a password, as measured: the table count times
    the length squared, growing by a further n/44 (written out here, not taken from the
    module, so that a change to the module's model must agree with the measurement)."""
    n = len(password)
    return l33t_tables(password) * n * n * (1 + n / 44)


@pytest.mark.parametrize(
    "password",
    [
        "password123",
        "correct horse battery staple",
        "Tr0ub4dor&3",
        "qwertyuiop12",
        "x7#Kp2!vQ9@m",
        "Summer2023!!",
        "alice.smith2024!",
    ],
)
def test_ordinary_passwords_get_zxcvbns_own_verdict(password):
    assert estimate_strength(password, USER_INPUTS).score == int(
        zxcvbn(password, USER_INPUTS).score
    )


@pytest.mark.parametrize(
    "password",
    [
        ("sweety" * 30)[:101],
        ("cadillacshaney14" * 9)[:128],
        ("alice.smith@example.com" * 6)[:117],
        ")(*&^%$#@!1234567890" * 4,
        "4|i(3.$mith111111" * 6,
        "1a2s3d4f5g6halice.smith@example.com",
        ("p@$$w0rd!" * 15)[:128],
    ],
)
def test_long_weak_passwords_are_not_rated_strong_by_the_bound(password):
    """Cutting a password can make a cut-off copy of a repeat, or a cut-off email, look
    like random characters: the cut is made where it cannot."""
    assert estimate_strength(password, USER_INPUTS).score < 3


def test_long_random_passwords_and_passphrases_are_rated_strong():
    rng = random.Random(0)
    words = ["orbit", "velvet", "candle", "harbor", "mosaic", "tundra", "pickle", "quartz"]
    for length in (16, 24, 40, 64, 100, 128):
        for alphabet in (string.ascii_letters + string.digits, string.printable[:94]):
            password = "".join(rng.choice(alphabet) for _ in range(length))
            assert estimate_strength(password, USER_INPUTS).score >= 3, password
    for count in (4, 6, 10, 16):
        password = "-".join(rng.choice(words) for _ in range(count))[:128]
        assert estimate_strength(password, USER_INPUTS).score >= 3, password


def test_a_weak_password_comes_with_the_reason():
    estimate = estimate_strength("password123", USER_INPUTS)
    assert estimate.score == 0 and estimate.warning
    assert all(isinstance(s, str) for s in estimate.suggestions)


def test_verdicts_are_the_same_when_many_threads_ask_at_once():
    """No lock is held across requests: the estimator keeps nothing between calls."""
    rng = random.Random(1)
    cases = [
        ("".join(rng.choice(string.ascii_lowercase) for _ in range(14)), [f"user{i}@x.com"])
        for i in range(40)
    ] + [("bob.jones2024!", ["bob.jones@example.com", "bob.jones"])]
    expected = [estimate_strength(p, u) for p, u in cases]
    results: dict[int, object] = {}

    def run(index: int) -> None:
        password, inputs = cases[index]
        results[index] = estimate_strength(password, inputs)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(cases))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[i] for i in range(len(cases))] == expected


@pytest.mark.parametrize(
    ("characters", "tables"),
    [
        ("", 1),
        ("1", 2),
        ("17", 4),
        ("!|", 3),
        ("1|", 6),
        ("1!|", 8),
        ("+7", 3),
        ("1!|7+", 25),
        ("({[<", 4),
        ("0123456789", 8),
        ("!$(+145679<@[{|", 800),
    ],
)
def test_the_enumeration_of_tables_branches_where_letters_share_a_character(characters, tables):
    # The enumeration itself, without the cache in front of it: one character per
    # letter gives one table per choice; a character two letters can stand for (1, |
    # and 7 are i, l and t) gives a table for each letter it is given to.
    assert _enumerated_tables(frozenset(characters)) == tables


def test_the_affordable_prefix_is_the_longest_whose_cost_fits_the_budget():
    # No l33t characters: one table all the way.
    plain = "abcdefghij" * 10
    assert affordable_prefix(plain, budget=cost(1, 50)) == 50
    assert affordable_prefix(plain, budget=cost(1, 50) - 1) == 49
    # "4" and "@" both stand for "a": two tables from the fourth character on.
    assert affordable_prefix("ab4@" + plain, budget=cost(2, 4)) == 4


def test_nothing_is_affordable_when_not_even_one_character_fits():
    assert affordable_prefix("abc", budget=0) == 0
    assert affordable_prefix("", budget=BUDGET) == 0


@pytest.mark.parametrize(
    ("password", "cut", "moved_to"),
    [
        ("abcdefgh", 4, 4),  # no repeat: the cut stays
        ("xyabababQ", 7, 6),  # inside "ababab": back to the end of the last whole "ab"
        ("zzabababab", 9, 8),
        ("p1p1p1p1", 5, 4),
        ("abcabcabcXYZ", 7, 6),  # "abc" three times: after the second copy
        ("xabcabcabcy", 8, 7),
        ("Qabcabc", 5, 4),  # after the first whole copy of a run that starts later
        ("qwerqwer", 6, 4),
        ("qwerqwer", 5, 4),  # one character into the second copy
        ("abcdabcX", 5, 5),  # a copy and a bit is not a repeat: nothing to protect
        ("abcdabcX", 6, 6),
        ("xyabcdabcQ", 8, 8),
        ("abcabcabcXYZ", 9, 9),  # at the end of the run: nothing is cut
        ("abcabcabcXYZ", 3, 3),  # between two whole copies
        ("aaaaaaa", 3, 3),  # one-character copies cannot be cut
        ("abab", 4, 4),  # at the end of the password
        ("xyzab", 10, 10),  # past the end
    ],
)
def test_a_cut_inside_a_repeated_run_moves_back_to_a_whole_copy(password, cut, moved_to):
    assert _before_repeats(password, cut) == moved_to


def test_a_cut_inside_one_of_the_users_words_moves_back_to_its_start():
    password = "xxAliceSmithyy"

    assert _before_inputs(password, 4, ["alice"]) == 2
    assert _before_inputs(password, 7, ["alice"]) == 7  # right after the word: kept
    assert _before_inputs(password, 2, ["alice"]) == 2  # right before it: kept
    assert _before_inputs(password, 9, ["", "SMITH"]) == 7  # any case; empty words skipped
    # Moved out of one word into another, and out of that one too.
    assert _before_inputs(password, 9, ["smith", "alicesmith"]) == 2


def test_a_cut_moves_out_of_whichever_copy_of_a_users_word_it_falls_in():
    assert _before_inputs("AliceSmith", 4, ["alice"]) == 0  # the word opens the password
    assert _before_inputs("alicealice", 3, ["alice"]) == 0  # the first of two copies
    assert _before_inputs("alicealice", 6, ["alice"]) == 5  # the second
    # Overlapping copies: moved back out of each in turn.
    assert _before_inputs("xhahahay", 6, ["haha"]) == 1


def test_a_clean_cut_splits_neither_a_repeat_nor_a_users_word():
    assert clean_cut("aliceabcabcabc", 12, ["alice"]) == 11
    assert clean_cut("xxalicealice", 10, ["alice"]) == 7


def test_the_multiplying_symbols_are_replaced_by_unused_private_characters_16_apart():
    password, inputs = _without_multiplying_symbols("p@ss(w\ue000rd!", ["a@b", "x|y", "c!"])

    # \ue000 is taken by the password itself; | is not in the password, so it stays.
    assert password == "p\ue010ss\ue020w\ue000rd\ue030"
    assert inputs == ["a\ue010b", "x|y", "c\ue030"]
