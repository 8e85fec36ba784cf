"""The strength estimate's advice about a weak password, in the visitor's language."""

from __future__ import annotations

import pytest
from pyramid.i18n import TranslationString, make_localizer

from app.i18n import translate_with, translation_directory
from app.services.passwords.feedback import FEEDBACK, advice, translatable


@pytest.fixture(scope="module")
def german():
    return make_localizer("de", [str(translation_directory())])


def test_every_sentence_of_the_estimate_is_a_message_of_the_app():
    for text, message in FEEDBACK.items():
        assert isinstance(message, TranslationString)
        assert message.domain == "app"
        assert str(message) == text


def test_a_sentence_of_the_estimate_is_translated():
    message = translatable("Straight rows of keys are easy to guess.")
    assert isinstance(message, TranslationString)
    assert message is FEEDBACK["Straight rows of keys are easy to guess."]


def test_a_sentence_without_its_full_stop_or_with_spaces_is_still_found(german):
    message = translatable("  Avoid sequences  ")
    assert message is FEEDBACK["Avoid sequences."]
    assert translate_with(german, message) == "Vermeiden Sie Zeichenfolgen wie abc oder 123."


def test_a_sentence_the_app_does_not_know_is_shown_as_the_estimate_gave_it(german):
    assert translatable("Something new") == "Something new."
    assert translate_with(german, advice("Something new", [])) == "Something new."


def test_the_advice_is_the_warning_then_each_suggestion_in_order(german):
    message = advice(
        "Straight rows of keys are easy to guess",
        ["Add another word or two. Uncommon words are better.", "Avoid sequences"],
    )
    assert translate_with(make_localizer("en", []), message) == (
        "Straight rows of keys are easy to guess. "
        "Add another word or two. Uncommon words are better. Avoid sequences."
    )
    assert translate_with(german, message) == (
        "Gerade Tastenreihen sind leicht zu erraten. "
        "Fügen Sie ein oder zwei weitere Wörter hinzu. Ungewöhnliche Wörter sind besser. "
        "Vermeiden Sie Zeichenfolgen wie abc oder 123."
    )


def test_a_warning_alone_is_the_whole_advice(german):
    message = advice("This is a top-10 common password", [])
    assert message is FEEDBACK["This is a top-10 common password."]
