"""Word lists for the default chat moderation filter (English and Korean).

Kept apart from the matcher so the lists can be reviewed and extended without reading regex code.
Each `Term` is written in its plain form; the matcher in `chat.moderation` adds the evasion handling
(separators, repeated letters, leetspeak, homoglyphs, jamo initials) on its own.

Context options exist because many offensive strings are also parts of ordinary words
(the Scunthorpe problem): "class", "Scunthorpe", "시발점" (starting point), "시바견" (Shiba dog),
"불이 꺼져 있다" (the light is off), "위기가 닥쳐왔다" (a crisis came upon us).
"""

from dataclasses import dataclass
from typing import Any

PROFANITY = "profanity"
ABUSE = "abuse"
SLUR = "slur"
THREAT = "threat"


@dataclass(frozen=True)
class Term:
    """One offensive word or phrase.

    left_bound / right_bound: the match may not touch a letter of the same script on that side
        (English: a-z, Korean: Hangul), so "ass" does not match inside "class" or "assess".
    not_before / not_after: regexes for context that makes the match innocent ("시발" before "점");
        not_before is a "|"-separated list of fixed-width alternatives (it becomes lookbehinds).
    jamo: Korean only. "all" lets every syllable also be written as its initial consonant ("ㅅㅂ" for 시발),
        "tail" allows that only after the first syllable ("개ㅅㄲ" but not "ㄱㄴ", which means 가능),
        "none" matches syllables only.
    phrase: words may be separated by spaces (natural spacing, not an evasion), e.g. "kill yourself".
    """

    text: str
    label: str
    left_bound: bool = False
    right_bound: bool = False
    not_before: str | None = None
    not_after: str | None = None
    jamo: str = "tail"
    phrase: bool = False


def _terms(label: str, words: str, **options: Any) -> list[Term]:
    return [Term(word, label, **options) for word in words.split()]


ENGLISH_TERMS: list[Term] = [
    # Words that are never part of an ordinary English word: matched anywhere ("motherfucker", "bullshit").
    *_terms(PROFANITY, "fuck fuk fck fuq phuck"),
    Term("shit", PROFANITY, not_after="ake|ak"),  # "shiitake"/"shitake" are mushrooms
    *_terms(PROFANITY, "shite"),
    *_terms(PROFANITY, "sht wtf stfu", left_bound=True, right_bound=True),  # "sh*t": the symbol stands for a letter
    *_terms(ABUSE, "bitch btch bastard asshole arsehole dumbass jackass whore cocksucker douchebag"),
    *_terms(ABUSE, "cunt twat wanker slut", left_bound=True),  # "Scunthorpe"
    *_terms(ABUSE, "dickhead", left_bound=True),
    *_terms(ABUSE, "ass arse dick dicks prick pricks pussy", left_bound=True, right_bound=True),
    *_terms(SLUR, "nigger nigga", left_bound=True),  # "snigger"
    Term("retard", SLUR, left_bound=True, not_after="ant|ation"),  # "fire retardant"
    *_terms(SLUR, "faggot", left_bound=True),
    *_terms(SLUR, "fag fags tranny spic kike dyke gook paki towelhead wetback", left_bound=True, right_bound=True),
    *[
        Term(phrase, THREAT, left_bound=True, right_bound=True, phrase=True)
        for phrase in (
            "kill yourself",
            "kill urself",
            "kill ur self",
            "kill yo self",
            "neck yourself",
            "hang yourself",
            "go die",
            "die in a fire",
            "hope you die",
            "i will kill you",
            "ill kill you",
            "gonna kill you",
            "going to kill you",
            "i will rape you",
            "ill rape you",
            "kys",
        )
    ],
]

# "이 " / "가 " before a verb is a subject particle: "불이 꺼져" is "the light goes out", not "get lost".
_AFTER_SUBJECT = r"이\s|가\s|이|가"

KOREAN_TERMS: list[Term] = [
    *_terms(
        PROFANITY, "씨발 씨바 씨빨 씨팔 시빨 시팔 씨벌 시벌 쓰발 쓰벌 씌발 쒸발 씨부랄 시부랄 씨댕 시댕", jamo="all"
    ),
    Term("시발", PROFANITY, jamo="all", not_after="점|역|택시|자동차"),  # 시발점 = starting point
    Term("시바", PROFANITY, jamo="all", not_after=r"견|이누|\s*이누|신|\s*견"),  # 시바견 = Shiba dog, 시바 = Shiva
    *_terms(PROFANITY, "좆 좃 썅", jamo="none"),
    Term("존나", PROFANITY, jamo="all", not_before="보|생|공|잔|의|현|온"),  # 보존 나무, 생존 나이
    *_terms(PROFANITY, "ㅄ", jamo="none"),
    *_terms(ABUSE, "개새끼 개새기 개색기 개색끼 개섀끼 개세끼 개쉐끼 개쌔끼 개색히 씹새끼 씹새 씹년", jamo="all"),
    *_terms(ABUSE, "개새 개년 개놈 개같은 씹할 씹창 호로새끼 후레자식 썅년 쌍년 쌍놈 엠창 니애미 니미럴 찐따 또라이"),
    *_terms(ABUSE, "병신 븅신 빙신 병쉰 지랄 느금마", jamo="all"),
    *_terms(ABUSE, "미친놈 미친년 미친새끼 미친색기", jamo="all", phrase=True),  # also spelled "미친 놈"
    *_terms(ABUSE, "등신"),
    Term("닥쳐", ABUSE, jamo="all", not_after="오|온|올|왔|와|서"),  # 위기가 닥쳐왔다 = a crisis came
    Term("닥치라", ABUSE),
    *_terms(ABUSE, "꺼져 꺼져라 꺼져버려", jamo="all", left_bound=True, right_bound=True, not_before=_AFTER_SUBJECT),
    *_terms(SLUR, "짱깨 짱개 쪽바리 깜둥이 한남충 김치녀 된장녀 틀딱 맘충 급식충 똥꼬충"),
    *_terms(
        THREAT,
        "죽어라 죽어버려 뒤져라 뒤질래 죽을래 죽고싶냐 죽여버린다 죽여버릴 죽여버리 자살해라",
        jamo="none",
        phrase=True,
    ),
    *_terms(THREAT, "죽일거야 죽일꺼야 죽여줄게 패버린다", jamo="none", phrase=True),
    Term("죽어", THREAT, jamo="none", left_bound=True, right_bound=True, not_before=_AFTER_SUBJECT),
    Term("자살해", THREAT, jamo="none", right_bound=True),
]
