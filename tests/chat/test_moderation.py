"""The chat moderation filter: evasions in English and Korean, false positives, masking, the pluggable setting."""

import pytest
from django.test import override_settings

from chat.moderation import (
    DEFAULT_FILTER,
    ModerationResult,
    WordListFilter,
    get_filter,
    moderate,
    normalise,
)

word_list = WordListFilter()


def check(text: str, language: str = "en") -> ModerationResult:
    return word_list.check(text, language=language)


# --- Evasions -----------------------------------------------------------------------------------------------------

PLAIN = ["fuck", "shit", "bitch", "asshole", "cunt", "dick", "bastard", "씨발", "개새끼", "병신", "좆", "존나", "지랄"]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_profanity_and_abuse_is_flagged_and_fully_masked(text):
    result = check(text)

    assert result.flagged
    assert result.masked_text == "*" * len(text)


@pytest.mark.parametrize(
    "text",
    ["f u c k", "s h i t", "b i t c h", "시 발", "씨 발", "개 새 끼", "병 신", "지 랄", "f  u  c  k"],
)
def test_letters_spaced_out_are_flagged(text):
    assert check(text).masked_text == "*" * len(text)


@pytest.mark.parametrize(
    "text",
    [
        "f*u*c*k",
        "f.u.c.k",
        "s-h-i-t",
        "b_i_t_c_h",
        "f*ck",
        "sh*t",
        "시.발",
        "시*발",
        "ㅅ!ㅂ",
        "ㅆ.ㅂ",
        "병1신",
        "개_새_끼",
    ],
)
def test_symbols_between_letters_are_flagged(text):
    assert check(text).masked_text == "*" * len(text)


@pytest.mark.parametrize(
    "text", ["fuuuuck", "fuckkkk", "shiiiit", "biiiitch", "asssshole", "씨발발", "씨씨발", "ffffuuuucccckkkk"]
)
def test_repeated_letters_are_flagged(text):
    assert check(text).masked_text == "*" * len(text)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("ㅅㅣㅂㅏㄹ", "profanity"),
        ("ㅆㅣㅂㅏㄹ", "profanity"),
        ("ㅂㅕㅇㅅㅣㄴ", "abuse"),
        ("ㄱㅐㅅㅐㄲㅣ", "abuse"),
        ("ㅈㅣㄹㅏㄹ", "abuse"),
        ("시ㅂㅏㄹ", "profanity"),
    ],
)
def test_jamo_typed_one_by_one_are_composed_and_flagged(text, label):
    result = check(text, "ko")

    assert result.labels == [label]
    assert result.masked_text == "*" * len(text)


def test_jamo_composition_handles_decomposed_syllables():
    decomposed = "\u1109\u1175\u1107\u1161\u11af"  # 시발 in NFD (conjoining jamo)

    assert normalise(decomposed)[0] == "시발"
    assert check(decomposed).flagged


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("ㅅㅂ", "profanity"),
        ("ㅆㅂ", "profanity"),
        ("ㅂㅅ", "abuse"),
        ("ㅄ", "profanity"),
        ("ㅈㄹ", "abuse"),
        ("ㄱㅅㄲ", "abuse"),
        ("ㅈㄴ", "profanity"),
        ("ㄲㅈ", "abuse"),
        ("ㅅ발", "profanity"),
        ("개ㅅㄲ", "abuse"),
    ],
)
def test_initial_consonant_abbreviations_are_flagged(text, label):
    result = check(text, "ko")

    assert result.flagged
    assert label in result.labels


@pytest.mark.parametrize(
    "text",
    [
        "fцck",  # Cyrillic tse
        "ѕhit",  # Cyrillic dze
        "bіtch",  # Cyrillic i
        "fυck",  # Greek upsilon
        "аss",  # Cyrillic a
        "sh1t",
        "$hit",
        "5h!t",
        "@ss",
        "a$$hole",
        "b1tch",
        "ｆｕｃｋ",  # fullwidth
        "ＳＨＩＴ",
        "FUCK",
        "fück",
        "f\u200buck",  # zero-width space
        "s\u200dh\ufeffit",  # zero-width joiner, BOM
        "f\u0336u\u0336c\u0336k\u0336",  # strike-through combining marks
        "씨\u200b발",
    ],
)
def test_look_alike_characters_are_flagged_and_fully_masked(text):
    assert check(text).masked_text == "*" * len(text)


@pytest.mark.parametrize(
    "text",
    [
        "씨발",
        "시발",
        "씨바",
        "시바",
        "씨팔",
        "시팔",
        "씨벌",
        "ㅆㅂ",
        "개새끼",
        "개색기",
        "개새기",
        "개색끼",
        "병신",
        "븅신",
    ],
)
def test_korean_variants_are_flagged(text):
    assert check(text, "ko").flagged


@pytest.mark.parametrize(
    "text",
    [
        "좆같네",
        "존나 싫어",
        "지랄하지 마",
        "닥쳐",
        "꺼져",
        "미친놈아",
        "그 미친 놈이",
        "미친년",
        "씹새끼",
        "니애미",
        "등신같이",
    ],
)
def test_korean_abuse_in_sentences_is_flagged(text):
    assert check(text, "ko").flagged


# --- Labels -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("what the fuck", ["profanity"]),
        ("you bitch", ["abuse"]),
        ("you are a bastard", ["abuse"]),
        ("kill yourself", ["threat"]),
        ("just kys", ["threat"]),
        ("k y s", ["threat"]),
        ("i will kill you", ["threat"]),
        ("I'll kill you", ["threat"]),
        ("go die in a fire", ["threat"]),
        ("k1ll y0urself", ["threat"]),
        ("ki11 urself", ["threat"]),
        ("nigger", ["slur"]),
        ("faggot", ["slur"]),
        ("you retard", ["slur"]),
        ("너 죽어", ["threat"]),
        ("죽여 버린다", ["threat"]),
        ("죽여버릴거야", ["threat"]),
        ("뒤질래?", ["threat"]),
        ("짱깨", ["slur"]),
        ("한남충", ["slur"]),
        ("씨발 개새끼 죽어라", ["abuse", "profanity", "threat"]),
        ("fuck you bitch, kill yourself", ["abuse", "profanity", "threat"]),
    ],
)
def test_labels_name_every_kind_of_offence_found(text, labels):
    assert check(text).labels == labels


# --- False positives (the Scunthorpe problem) ---------------------------------------------------------------------

ENGLISH_CLEAN = [
    "The class assessment was passed with high marks.",
    "I grew up near Scunthorpe and Essex.",
    "We had shiitake and shitake mushrooms with cocktails.",
    "He is a skilled assassin in the video game.",
    "Please assess the bass guitar before class.",
    "Charles Dickens wrote long novels.",
    "The cockpit was cramped and a peacock walked by.",
    "Sussex, Middlesex and Hancock are names.",
    "The fire retardant worked well; the therapist agreed.",
    "She sniggered at the joke.",
    "I will kill the process and restart the server.",
    "That skill is useful; the kids were killing time.",
    "Do you like sushi? I think it is delicious.",
    "Hello, how are you doing today? Do you know what time it is?",
    "The mass of the glass is 3 kg. Pass the salt, please.",
    "The spice rack is full and Pakistan is a big country.",
    "Analytics, cumulative, document, title, arsenal, Dickson, cocky, shell, hello.",
    "Let's grab a bite; I passed the exam!",
    "As soon as possible, as I said. I was ill; sick of it.",
    "The bass, the brass and the grass were fine; compass and embassy too.",
]

KOREAN_CLEAN = [
    "오늘 날씨가 정말 좋네요. 어디 가세요?",
    "시발점에서 출발해서 종점까지 갔어요.",
    "시발역에 도착했습니다.",
    "오후 3시 발표가 있어요. 서울시 발전 계획을 봤어요.",
    "시 발전 계획안에 대해 논의합시다.",
    "우리 집 시바견은 정말 귀여워요.",
    "내일 시바 이누 보러 가자.",
    "불이 꺼져 있어서 어두웠어요.",
    "위기가 닥쳐왔지만 잘 이겨냈다.",
    "죽어도 못 하겠어요. 식물이 죽어가고 있어요.",
    "감사합니다 ㄱㅅ ㅋㅋㅋ ㅎㅎ ㅇㅇ ㄴㄴ ㅈㅅ ㅊㅋ ㅂㅂ ㄱㄴ",
    "가방을 뒤져 봤는데 없었어요.",
    "그 사람은 정말 미친 듯이 일했다.",
    "밥을 꼭꼭 씹어 먹어라.",
    "보존 나무를 심었어요.",
    "시간이 지나면 다 괜찮아질 거예요.",
    "그는 개인적인 일로 새벽에 떠났다.",
    "오늘 3시 발레 수업 있어.",
]


@pytest.mark.parametrize("text", ENGLISH_CLEAN)
def test_ordinary_english_is_not_flagged(text):
    assert check(text) == ModerationResult(flagged=False, masked_text=text, labels=[])


@pytest.mark.parametrize("text", KOREAN_CLEAN)
def test_ordinary_korean_is_not_flagged(text):
    assert check(text, "ko") == ModerationResult(flagged=False, masked_text=text, labels=[])


@pytest.mark.parametrize("text", ["class", "assess", "Scunthorpe", "shitake", "시발점"])
def test_scunthorpe_words_named_in_the_issue_are_not_flagged(text):
    assert not check(text).flagged


# --- Masking ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("what the fuck is this", "what the **** is this"),
        ("oh f*u*c*k off", "oh ******* off"),
        ("hey ｆｕｃｋ you", "hey **** you"),
        ("a f\u200bu\u200bc\u200bk b", "a ******* b"),
        ("아 시발 진짜", "아 ** 진짜"),
        ("아 ㅅㅣㅂㅏㄹ 진짜", "아 ***** 진짜"),
        ("이 병신아", "이 **아"),
        ("bullshit and motherfucker", "bull**** and mother****er"),
        ("shit, 씨발, kys.", "****, **, ***."),
    ],
)
def test_masking_replaces_each_offending_span_in_the_original_text(text, masked):
    result = check(text)

    assert result.masked_text == masked
    assert len(result.masked_text) == len(text)


def test_masking_leaves_every_character_outside_the_offending_spans_untouched():
    text = "Ｈｅｌｌｏ　ｆｒｉｅｎｄ, 시.발 and s\u200bh\u200bi\u200bt!"

    masked = check(text).masked_text

    assert len(masked) == len(text)
    changed = [index for index, (before, after) in enumerate(zip(text, masked, strict=True)) if before != after]
    assert "".join(text[index] for index in changed) == "시.발s\u200bh\u200bi\u200bt"
    assert all(masked[index] == "*" for index in changed)


def test_normalise_maps_each_character_back_to_its_source_span():
    text = "Ｆ\u200bU ㅅㅣㅂㅏㄹ"

    normalised, spans = normalise(text)

    assert normalised == "fu 시발"
    # The ignored zero-width space joins the character before it; composed syllables span their jamo.
    assert spans == [(0, 2), (2, 3), (3, 4), (4, 6), (6, 9)]


def test_trailing_combining_marks_are_masked_with_their_letter():
    assert check("oh s\u0336h\u0336i\u0336t\u0336!").masked_text == "oh ********!"


# --- The pluggable filter -----------------------------------------------------------------------------------------


class ShoutingFilter:
    """A stand-in for a classifier: flags messages written in capitals, labels them with the language."""

    def check(self, text: str, *, language: str) -> ModerationResult:
        if text.isupper():
            return ModerationResult(flagged=True, masked_text="*" * len(text), labels=[f"shouting-{language}"])
        return ModerationResult(flagged=False, masked_text=text, labels=[])


def test_moderate_uses_the_word_list_filter_by_default():
    assert DEFAULT_FILTER == "chat.moderation.WordListFilter"
    assert isinstance(get_filter(), WordListFilter)
    assert moderate("what the fuck", language="en") == ModerationResult(
        flagged=True, masked_text="what the ****", labels=["profanity"]
    )


@override_settings(CHAT_MODERATION_FILTER="tests.chat.test_moderation.ShoutingFilter")
def test_moderate_uses_the_filter_named_in_settings():
    assert isinstance(get_filter(), ShoutingFilter)
    assert moderate("HELLO", language="ko") == ModerationResult(
        flagged=True, masked_text="*****", labels=["shouting-ko"]
    )
    assert moderate("fuck", language="en") == ModerationResult(flagged=False, masked_text="fuck", labels=[])


@override_settings(CHAT_MODERATION_FILTER="tests.chat.test_moderation.ShoutingFilter")
def test_configured_filter_is_instantiated_once():
    assert get_filter() is get_filter()


@override_settings(CHAT_MODERATION_FILTER="tests.chat.test_moderation.NoSuchFilter")
def test_a_misconfigured_filter_fails_loudly():
    with pytest.raises(ImportError):
        moderate("hello", language="en")


def test_result_is_immutable():
    result = check("hello")

    with pytest.raises(AttributeError):
        result.flagged = True  # type: ignore[misc]
