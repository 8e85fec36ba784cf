"""How hard a password is to guess, in bounded time whatever the input.

The estimate is zxcvbn's, from zxcvbn-rs-py (the Rust implementation: thread-safe, so no
lock is held across requests, and fast). Left alone, its l33t matcher costs about
T x n^2, where n is the length (it reads 100 characters at most) and T the number of
substitution tables it enumerates for the l33t characters present: up to 800, reached
with only the fifteen characters !$(+145679<@[{|, which made one 128-character password
cost over a second. T is known before the call (see l33t_tables), so:

1. If the whole password (up to 100 characters) fits BUDGET, it is estimated as it is:
   the verdict is zxcvbn's own. That is the case for nearly every real password.
2. Otherwise two passes share the budget, and the lower score wins:
   - the longest affordable prefix, cut cleanly: never inside a repeated run or inside
     the user's email, where zxcvbn would take the cut piece for random characters and
     rate a weak password strong;
   - the whole password with the nine symbols that multiply T (@({[<$!|+) replaced one
     for one by private-use characters, so that T is at most 8: repeats, words, dates
     and the email are still seen over the whole length.
   Each pass can over-rate a password only in its own way, so a weak password gets
   through only if both miss it at once.

The l33t table and the cost model follow zxcvbn-rs-py 0.3 (zxcvbn 3.1); setup.py pins
that range, and tests/unit/services/passwords/test_strength.py checks the table
count against the library."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from zxcvbn_rs_py import zxcvbn

# zxcvbn-rs estimates the first 100 characters only; longer passwords are cut here, cleanly.
ESTIMATED_LENGTH = 100
# Work units for one verdict, both passes together: about 30 ms of CPU at worst.
BUDGET = 500_000
FALLBACK_WARNING = "This password is too easy to guess."

# zxcvbn's l33t table: which characters may stand for which letter.
L33T_TABLE = {
    "a": "4@",
    "b": "8",
    "c": "({[<",
    "e": "3",
    "g": "69",
    "i": "1!|",
    "l": "1|7",
    "o": "0",
    "s": "$5",
    "t": "+7",
    "x": "%",
    "z": "2",
}
L33T_CHARACTERS = frozenset("".join(L33T_TABLE.values()))
# Letters whose l33t characters are their own: each multiplies T by how many are present.
_INDEPENDENT_GROUPS = ("4@", "({[<", "69", "$5")
# i, l and t share 1, | and 7: their count is taken from the enumeration itself.
_SHARED_GROUP = "1!|7+"
# Replaced in the second pass; what remains can make at most 8 tables.
_MULTIPLYING_SYMBOLS = "@({[<$!|+"


@dataclass(frozen=True)
class StrengthEstimate:
    score: int
    warning: str
    suggestions: list[str]


def _enumerated_tables(present: frozenset[str]) -> int:
    """How many substitution tables zxcvbn enumerates for these l33t characters (its
    own algorithm: each letter's characters, one at a time, branching where a character
    was already taken by another letter)."""
    tables: list[tuple[tuple[str, str], ...]] = [()]
    for letter, characters in L33T_TABLE.items():
        candidates = [ch for ch in characters if ch in present]
        if not candidates:
            continue
        grown: list[tuple[tuple[str, str], ...]] = []
        for ch in candidates:
            for table in tables:
                taken = next((i for i, (sub, _) in enumerate(table) if sub == ch), None)
                if taken is None:
                    grown.append((*table, (ch, letter)))
                else:
                    grown.append(table)
                    grown.append((*table[:taken], *table[taken + 1 :], (ch, letter)))
        tables = [tuple(dict.fromkeys(table)) for table in grown]
    return len(tables)


@cache
def _shared_group_tables(present: frozenset[str]) -> int:
    return _enumerated_tables(present)


def l33t_tables(characters: Iterable[str]) -> int:
    """The number of tables T for a password with these characters."""
    present = frozenset(characters) & L33T_CHARACTERS
    count = _shared_group_tables(present & frozenset(_SHARED_GROUP))
    for group in _INDEPENDENT_GROUPS:
        count *= max(1, len(present & frozenset(group)))
    return count


def cost(tables: int, length: int) -> float:
    """Work units of one estimate (calibrated on zxcvbn-rs-py 0.3)."""
    return tables * length * length * (1 + length / 44)


def affordable_prefix(password: str, budget: float = BUDGET) -> int:
    """The longest prefix (at most ESTIMATED_LENGTH) whose estimate fits the budget."""
    present: set[str] = set()
    tables, affordable = 1, 0
    for length, ch in enumerate(password[:ESTIMATED_LENGTH], start=1):
        if ch in L33T_CHARACTERS and ch not in present:
            present.add(ch)
            tables = l33t_tables(present)
        if cost(tables, length) > budget:
            break
        affordable = length
    return affordable


def _before_repeats(password: str, cut: int) -> int:
    """Move a cut that falls inside a run of a repeated string (two copies or more) back
    to the end of the last whole copy before it: a cut copy would be rated as random
    characters. Every period is tried; the earliest cut wins."""
    length, best = len(password), cut
    runs: list[tuple[int, int, int]] = []
    for period in range(1, cut + 1):
        if cut >= length or password[cut] != password[cut - period]:
            continue
        start = cut - period
        while start > 0 and password[start - 1] == password[start - 1 + period]:
            start -= 1
        end = cut + 1
        while end < length and password[end] == password[end - period]:
            end += 1
        if end - start < 2 * period:
            continue
        if any(period % p == 0 and s <= start and end <= e for p, s, e in runs):
            continue  # a multiple of a period already found for this run
        runs.append((period, start, end))
        # The run starts a whole period or more before the cut (start <= cut - period).
        best = min(best, start + (cut - start) // period * period)
    return best


def _before_inputs(password: str, cut: int, user_inputs: list[str]) -> int:
    """Move a cut that falls inside one of the user's own words back to its start."""
    lowered, moved = password.lower(), True
    while moved:
        moved = False
        for word in (u.lower() for u in user_inputs if u):
            start = lowered.find(word, max(0, cut - len(word) + 1))
            if 0 <= start < cut < start + len(word):
                cut, moved = start, True
    return cut


def clean_cut(password: str, cut: int, user_inputs: list[str]) -> int:
    """A cut at or before `cut` that splits no repeated run and none of the user's words."""
    while cut < len(password):
        moved = _before_inputs(password, _before_repeats(password, cut), user_inputs)
        if moved == cut:
            break
        cut = moved
    return cut


def _without_multiplying_symbols(password: str, user_inputs: list[str]) -> tuple[str, list[str]]:
    """The password (and the user's words, the same way) with each multiplying symbol
    replaced by a private-use character that is not in it, 16 apart so that they make
    no sequence."""
    used = set(password).union(*(set(u) for u in user_inputs))
    mapping: dict[str, str] = {}
    point = 0xE000
    for symbol in _MULTIPLYING_SYMBOLS:
        if symbol in password:
            while chr(point) in used:
                point += 16
            mapping[symbol] = chr(point)
            point += 16
    table = str.maketrans(mapping)
    return password.translate(table), [u.translate(table) for u in user_inputs]


def _zxcvbn(password: str, user_inputs: list[str]) -> StrengthEstimate:
    result = zxcvbn(password, user_inputs)
    feedback = result.feedback
    warning = str(feedback.warning) if feedback is not None and feedback.warning else ""
    suggestions = [str(s) for s in feedback.suggestions] if feedback is not None else []
    return StrengthEstimate(int(result.score), warning, suggestions)


def estimate_strength(password: str, user_inputs: list[str]) -> StrengthEstimate:
    """zxcvbn's estimate of a password (NFKC-normalised, at most the policy's maximum
    length), within BUDGET whatever the password."""
    user_inputs = [u for u in user_inputs if u]
    if not password:
        return StrengthEstimate(0, FALLBACK_WARNING, [])
    whole = clean_cut(password, min(len(password), ESTIMATED_LENGTH), user_inputs)
    if affordable_prefix(password) >= whole:
        return _zxcvbn(password[:whole], user_inputs)
    reduced, reduced_inputs = _without_multiplying_symbols(password[:whole], user_inputs)
    second_cost = cost(l33t_tables(reduced), whole)
    prefix = clean_cut(password, affordable_prefix(password, BUDGET - second_cost), user_inputs)
    first = (
        _zxcvbn(password[:prefix], user_inputs)
        if prefix
        else StrengthEstimate(0, FALLBACK_WARNING, [])
    )
    second = _zxcvbn(reduced, reduced_inputs)
    weaker, other = (first, second) if first.score <= second.score else (second, first)
    if weaker.score < 3 and not weaker.warning and other.score < 3 and other.warning:
        # Say why, if either pass knows.
        return StrengthEstimate(
            weaker.score, other.warning, weaker.suggestions or other.suggestions
        )
    return weaker
