"""Text the database can store (hulic.storable_text): pure, no database."""

import pytest

from hulic.storable_text import unstorable_character_index, unstorable_text_reason


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("plain", None),
        ("한국어 😀 \u200b\ufeff", None),
        ("\x00", 0),
        ("ab\x00", 2),
        ("a\ud800b", 1),
        ("x\udfff\x00", 1),
        ("x\x00\udfff", 1),
        ("\ud83d\ude00", 0),  # a surrogate pair as two code points is still two lone surrogates in Python
    ],
)
def test_unstorable_character_index_finds_nul_and_lone_surrogates(text, index):
    assert unstorable_character_index(text) == index


def test_the_reason_names_the_code_point_without_repeating_it():
    reason = unstorable_text_reason("ok\ud800")
    assert reason.startswith("U+D800 at character 3 ")
    assert "\ud800" not in reason
    assert unstorable_text_reason("fine") is None
