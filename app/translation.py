"""The translation string factory of the "app" domain, for services and view models
(it needs nothing of Pyramid). `_("Text with ${name}", mapping={"name": value})` is
translated where it is shown: by the page's template, or for a flash message or a JSON
answer by app.i18n.translated()."""

from __future__ import annotations

from translationstring import TranslationString, TranslationStringFactory

DOMAIN = "app"
_ = TranslationStringFactory(DOMAIN)


def english(message: str) -> str:
    """The English text of a message, with its values filled in (for logs and str())."""
    if not isinstance(message, TranslationString):
        return str(message)
    mapping = {k: english(v) for k, v in (message.mapping or {}).items()}
    return str(TranslationString(message, mapping=mapping).interpolate())
