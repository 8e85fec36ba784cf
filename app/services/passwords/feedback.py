"""zxcvbn's advice about a weak password, in the app's languages: its English sentences
(the fixed set zxcvbn-rs gives) as translation strings."""

from __future__ import annotations

from app.translation import _

FEEDBACK = {
    text: message
    for message in (
        _("Straight rows of keys are easy to guess."),
        _("Short keyboard patterns are easy to guess."),
        _('Repeats like "aaa" are easy to guess.'),
        _('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
        _("This is a top-10 common password."),
        _("This is a top-100 common password."),
        _("This is a very common password."),
        _("This is similar to a commonly used password."),
        _("Sequences like abc or 6543 are easy to guess."),
        _("Recent years are easy to guess."),
        _("A word by itself is easy to guess."),
        _("Dates are often easy to guess."),
        _("Names and surnames by themselves are easy to guess."),
        _("Common names and surnames are easy to guess."),
        _("Use a few words, avoid common phrases."),
        _("No need for symbols, digits, or uppercase letters."),
        _("Add another word or two. Uncommon words are better."),
        _("Capitalization doesn't help very much."),
        _("All-uppercase is almost as easy to guess as all-lowercase."),
        _("Reversed words aren't much harder to guess."),
        _("Predictable substitutions like '@' instead of 'a' don't help very much."),
        _("Use a longer keyboard pattern with more turns."),
        _("Avoid repeated words and characters."),
        _("Avoid sequences."),
        _("Avoid recent years."),
        _("Avoid years that are associated with you."),
        _("Avoid dates and years that are associated with you."),
        _("This password is too easy to guess."),
    )
    for text in [str(message)]
}


def translatable(text: str) -> str:
    """zxcvbn's sentence as a translation string (or as it is, if it is a new one)."""
    text = text.strip()
    if not text.endswith("."):
        text += "."
    return FEEDBACK.get(text, text)


def advice(warning: str, suggestions: list[str]) -> str:
    """One message: the warning, then each suggestion."""
    message = translatable(warning)
    for suggestion in suggestions:
        message = _(
            "${before} ${after}", mapping={"before": message, "after": translatable(suggestion)}
        )
    return message
