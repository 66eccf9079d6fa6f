"""Organizer-written text in the user's language: pure helpers, no Django import.

What organizers write (criteria labels, onboarding questions, description, rules, terms) is stored in English
(the base, always present) plus optional translations beside it: ``label_ko`` next to ``label`` in a criterion,
``question_ko`` and ``choices_ko`` in an onboarding question, ``description_ko`` next to ``description`` on the
competition. A reader gets their language where it is filled in, English otherwise.
"""

BASE_LANGUAGE = "en"


def language_code(language: str | None) -> str:
    """ "ko-kr" → "ko"; None → the base language."""
    return (language or BASE_LANGUAGE)[:2].lower()


def localized(item: dict, field: str, language: str | None) -> str:
    """``item[field + "_" + language]`` if given, else ``item[field]`` (English)."""
    code = language_code(language)
    if code != BASE_LANGUAGE:
        translated = item.get(f"{field}_{code}")
        if isinstance(translated, str) and translated.strip():
            return translated
    return item.get(field, "")


def localized_choices(question: dict, language: str | None) -> list[str]:
    """An onboarding question's choices in the language, each falling back to English where left empty."""
    choices = list(question.get("choices", []))
    code = language_code(language)
    translated = question.get(f"choices_{code}") if code != BASE_LANGUAGE else None
    if not isinstance(translated, list):
        return choices
    return [
        other if isinstance(other, str) and other.strip() else base
        for base, other in zip(choices, translated + [""] * (len(choices) - len(translated)), strict=False)
    ]
