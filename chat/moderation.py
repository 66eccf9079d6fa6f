"""Chat moderation: every message passes `moderate()` before it is delivered to the partner.

The default filter, `WordListFilter`, finds English and Korean profanity, abuse, slurs and threats
(word lists in `chat.moderation_words`) despite the usual evasions:

- look-alike characters: fullwidth and other compatibility forms (NFKC), accents, Cyrillic/Greek homoglyphs
  ("fцck"), zero-width and combining characters;
- leetspeak ("sh1t", "@ss", "$hit") and repeated letters ("fuuuuck", up to 16 of each);
- separators between letters: symbols anywhere ("f*u*c*k", "시.발", "ㅅ!ㅂ"); spaces only when the spaced-out
  word stands alone ("f u c k", "시 발"), so "3시 발표" (a 3 o'clock presentation) stays clean;
- Hangul jamo typed one by one ("ㅅㅣㅂㅏㄹ" is composed back into "시발") and initial-consonant
  abbreviations ("ㅅㅂ", "ㅂㅅ", "ㅈㄹ"), mixed forms ("ㅅ발").

Matching runs on a normalised copy of the text that remembers, for each character, where it came from,
so every offending span is masked in the ORIGINAL text with "*" of the same length.

Both lexicons always apply whatever `language` says, because people switch languages mid-message;
`language` is part of the interface for filters that need it (e.g. a per-language classifier).

Plugging in another filter (e.g. a classifier model): write a class with a no-argument constructor and a
`check(self, text: str, *, language: str) -> ModerationResult` method, and point the setting at it:

    CHAT_MODERATION_FILTER = "myproject.moderation.ToxicityClassifierFilter"

The class is imported and instantiated once per process (load model weights in `__init__`), and `check`
runs for every message, so keep it fast or make it combine a quick word-list pass with the model.
It may reuse `WordListFilter().check(...)` to get masked spans and add its own labels. `check` is synchronous:
the word list costs tens of microseconds, but a slow model belongs in a thread (`sync_to_async`) or a service call.
"""

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol

from chat.moderation_words import ENGLISH_TERMS, KOREAN_TERMS, Term

DEFAULT_FILTER = "chat.moderation.WordListFilter"


@dataclass(frozen=True)
class ModerationResult:
    flagged: bool
    masked_text: str
    labels: list[str]


class ModerationFilter(Protocol):
    def check(self, text: str, *, language: str) -> ModerationResult: ...


def moderate(text: str, *, language: str) -> ModerationResult:
    """Check one chat message with the configured filter."""
    return get_filter().check(text, language=language)


def get_filter() -> ModerationFilter:
    """The filter named by settings.CHAT_MODERATION_FILTER, instantiated once per dotted path."""
    from django.conf import settings

    return _load_filter(getattr(settings, "CHAT_MODERATION_FILTER", DEFAULT_FILTER))


@functools.cache
def _load_filter(dotted_path: str) -> ModerationFilter:
    from django.utils.module_loading import import_string

    return import_string(dotted_path)()


# --- Normalisation ------------------------------------------------------------------------------------------------

_ZERO_WIDTH = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\u3164\ufeff\uffa0"
)

# Letters from other scripts that look like Latin letters. Applied after casefolding.
_HOMOGLYPHS = {
    **dict(zip("авеёкмнорстухцшіјѕԁɡ", "abeekmhopctyxuwijsdg", strict=True)),
    **dict(zip("αβεηικνορτυχμςı", "abenikvoptuxusi", strict=True)),
}

# Hangul compatibility jamo, in the order Unicode composes syllables from them.
_INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_FINALS = "\0ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"
_COMPOUND_VOWELS = {"ㅗㅏ": "ㅘ", "ㅗㅐ": "ㅙ", "ㅗㅣ": "ㅚ", "ㅜㅓ": "ㅝ", "ㅜㅔ": "ㅞ", "ㅜㅣ": "ㅟ", "ㅡㅣ": "ㅢ"}
_COMPOUND_FINALS = {
    "ㄱㅅ": "ㄳ", "ㄴㅈ": "ㄵ", "ㄴㅎ": "ㄶ", "ㄹㄱ": "ㄺ", "ㄹㅁ": "ㄻ", "ㄹㅂ": "ㄼ",
    "ㄹㅅ": "ㄽ", "ㄹㅌ": "ㄾ", "ㄹㅍ": "ㄿ", "ㄹㅎ": "ㅀ", "ㅂㅅ": "ㅄ",
}  # fmt: skip
_INITIAL_INDEX = {jamo: index for index, jamo in enumerate(_INITIALS)}
_VOWEL_INDEX = {jamo: index for index, jamo in enumerate(_VOWELS)}
_FINAL_INDEX = {jamo: index for index, jamo in enumerate(_FINALS) if index}

# Conjoining jamo (U+1100 block, what NFD produces) mapped to the compatibility jamo people type.
_CONJOINING_TO_COMPAT = {
    **{chr(0x1100 + index): jamo for index, jamo in enumerate(_INITIALS)},
    **{chr(0x1161 + index): jamo for index, jamo in enumerate(_VOWELS)},
    **{chr(0x11A7 + index): jamo for index, jamo in enumerate(_FINALS) if index},
}


def _is_hangul_syllable(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"


def _is_compat_jamo(char: str) -> bool:
    return "\u3131" <= char <= "\u318e"


def _normalise_char(char: str) -> str:
    """What one input character becomes for matching: "" (ignored), one or several characters."""
    if char in _ZERO_WIDTH:
        return ""
    if _is_hangul_syllable(char) or _is_compat_jamo(char):
        return char
    if char in _CONJOINING_TO_COMPAT:
        return _CONJOINING_TO_COMPAT[char]
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", char).casefold())
    result = []
    for part in decomposed:
        if unicodedata.combining(part):
            continue
        part = unicodedata.normalize("NFKC", part)
        result.append(_CONJOINING_TO_COMPAT.get(part, _HOMOGLYPHS.get(part, part)))
    return "".join(result)


def _compose_syllable(initial: str, vowel: str, final: str) -> str:
    final_index = _FINAL_INDEX[final] if final else 0
    return chr(0xAC00 + (_INITIAL_INDEX[initial] * 21 + _VOWEL_INDEX[vowel]) * 28 + final_index)


def _starts_syllable(chars: list[str], index: int) -> bool:
    """A consonant followed by a vowel begins the next syllable rather than closing the current one."""
    return index + 1 < len(chars) and chars[index] in _INITIAL_INDEX and chars[index + 1] in _VOWEL_INDEX


def _compose_jamo(chars: list[str], spans: list[tuple[int, int]]) -> tuple[list[str], list[tuple[int, int]]]:
    """Compose runs of typed jamo ("ㅅㅣㅂㅏㄹ") into syllables ("시발"), keeping the source spans."""
    out_chars: list[str] = []
    out_spans: list[tuple[int, int]] = []
    count = len(chars)
    i = 0
    while i < count:
        char = chars[i]
        if char in _INITIAL_INDEX and i + 1 < count and chars[i + 1] in _VOWEL_INDEX:
            vowel = chars[i + 1]
            j = i + 2
            if j < count and vowel + chars[j] in _COMPOUND_VOWELS:
                vowel = _COMPOUND_VOWELS[vowel + chars[j]]
                j += 1
            final = ""
            if j < count and chars[j] in _FINAL_INDEX and not _starts_syllable(chars, j):
                if j + 1 < count and chars[j] + chars[j + 1] in _COMPOUND_FINALS and not _starts_syllable(chars, j + 1):
                    final = _COMPOUND_FINALS[chars[j] + chars[j + 1]]
                    j += 2
                else:
                    final = chars[j]
                    j += 1
            out_chars.append(_compose_syllable(char, vowel, final))
            out_spans.append((spans[i][0], spans[j - 1][1]))
            i = j
        else:
            out_chars.append(char)
            out_spans.append(spans[i])
            i += 1
    return out_chars, out_spans


class _CharTable(dict[str, str]):
    """Memo of `_normalise_char`; a dict lookup per character is the hot path of every check."""

    max_size = 65536

    def __missing__(self, char: str) -> str:
        value = _normalise_char(char)
        if len(self) < self.max_size:
            self[char] = value
        return value


_CHAR_TABLE = _CharTable()
_JAMO_VOWEL = re.compile("[\u314f-\u3163]")


def normalise(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The text as the matcher sees it, and for each of its characters the (start, end) span in `text`."""
    normalised, spans = _normalise(text)
    return normalised, spans if spans is not None else [(index, index + 1) for index in range(len(text))]


def _normalise(text: str) -> tuple[str, list[tuple[int, int]] | None]:
    """Like `normalise`, but spans is None when character i of the result comes from character i of `text`."""
    parts = list(map(_CHAR_TABLE.__getitem__, text))
    normalised = "".join(parts)
    one_to_one = len(normalised) == len(text) and "" not in parts
    needs_composing = _JAMO_VOWEL.search(normalised) is not None
    if one_to_one and not needs_composing:
        return normalised, None
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    for index, part in enumerate(parts):
        if not part and spans:
            # An ignored character (combining mark, zero-width) belongs to the one before it.
            spans[-1] = (spans[-1][0], index + 1)
        for char in part:
            chars.append(char)
            spans.append((index, index + 1))
    if needs_composing:
        chars, spans = _compose_jamo(chars, spans)
    return "".join(chars), spans


# --- Pattern building ---------------------------------------------------------------------------------------------

_LEET = {
    "a": "a@4", "b": "b8", "e": "e3", "g": "g9", "i": "i1!|", "l": "l1|", "o": "o0",
    "s": "s$5", "t": "t7+", "u": "uv", "z": "z2",
}  # fmt: skip
_LATIN_LETTER = "a-z"
_HANGUL_LETTER = "\u3131-\u318e\uac00-\ud7a3"
# Between letters of one word: symbols and digits (never spaces: "3시 발표" must not read as "시발").
_SYMBOLS = r"(?:[^\w\s]|[\d_])"
# In a word spelled out with spaces ("f u c k"), which only counts when it stands alone.
_ANY_SEPARATOR = r"[\W\d_]"
_MAX_SEPARATORS = 3
# Repeats of one letter ("fuuuuck"). Bounded as well as possessive: with `+`, a long run such as "aaaa..." or
# "ㅅㅅㅅ..." would be scanned to its end from every start position (quadratic time on a 64 KB frame).
_MAX_REPEATS = 16
_MAX_OVERLAPPING_REPEATS = 4


def _term_units(term: Term, separator: str) -> tuple[str, str, str]:
    """The term as regex: (class of its first character, the rest of its first letter, all later letters).

    A letter is a possessive repeat unless its characters overlap the next letter's ("i" and "l" share
    "1" and "|", so "ki11" must be able to give a "1" back), which keeps matching time linear even on
    adversarial runs such as "1111..." (a digit is both leetspeak and a separator). A doubled letter
    ("ass", "kill") is one unit that must repeat at least twice.
    """
    letters: list[tuple[str, str, int]] = []  # (characters it may be written with, gap before it, repeats)
    for word_index, word in enumerate(term.text.split()):
        for position, (char, run) in enumerate(itertools.groupby(word)):
            if _is_hangul_syllable(char) or _is_compat_jamo(char):
                allow_initial = term.jamo == "all" or (term.jamo == "tail" and (position > 0 or word_index > 0))
                chars = _hangul_chars(char, allow_initial=allow_initial)
            else:
                chars = _LEET.get(char, char)
            gap = "" if not letters else f"{separator if position > 0 else _ANY_SEPARATOR}{{0,{_MAX_SEPARATORS}}}"
            letters.append((chars, gap, len(list(run))))
    patterns = []
    for index, (chars, gap, count) in enumerate(letters):
        overlaps_next = index + 1 < len(letters) and not set(chars).isdisjoint(letters[index + 1][0])
        minimum = count - 1 if index == 0 else count
        # A backtracking repeat gets a small cap: its cost multiplies with the next letter's.
        maximum = minimum + (_MAX_OVERLAPPING_REPEATS if overlaps_next else _MAX_REPEATS - 1)
        patterns.append(f"{gap}[{re.escape(chars)}]{{{minimum},{maximum}}}{'' if overlaps_next else '+'}")
    return f"[{re.escape(letters[0][0])}]", patterns[0], "".join(patterns[1:])


def _hangul_chars(syllable: str, *, allow_initial: bool) -> str:
    if allow_initial and _is_hangul_syllable(syllable):
        return syllable + _INITIALS[(ord(syllable) - 0xAC00) // (21 * 28)]
    return syllable


def _term_variants(term: Term) -> list[tuple[str, str]]:
    """(first character class, rest of the pattern) for the tight and the spaced-out spelling of a term.

    The first character is kept apart so the lexicon can be grouped by it: the regex engine then skips
    a whole group with one character-class test, which keeps matching fast with hundreds of terms.
    Checks on what precedes the term therefore look one character further back (`[\\s\\S]`).
    """
    letter = _HANGUL_LETTER if any(_is_hangul_syllable(c) or _is_compat_jamo(c) for c in term.text) else _LATIN_LETTER
    left = f"(?<![{letter}][\\s\\S])"
    right = f"(?![{letter}])"
    context_before = "".join(
        f"(?<!{alternative}[\\s\\S])" for alternative in (term.not_before or "").split("|") if alternative
    )
    context_after = f"(?!{term.not_after})" if term.not_after else ""
    variants = []
    # Natural spacing inside phrases ("죽여 버린다") and symbols inside words, with the term's own boundaries.
    first, first_rest, later = _term_units(term, _ANY_SEPARATOR if term.phrase else _SYMBOLS)
    variants.append(
        (
            first,
            (left if term.left_bound else "")
            + context_before
            + first_rest
            + later
            + (right if term.right_bound else "")
            + context_after,
        )
    )
    if not term.phrase:
        # Letters spaced out ("f u c k", "시 발") only count as a standalone word.
        first, first_rest, later = _term_units(term, _ANY_SEPARATOR)
        variants.append((first, left + context_before + first_rest + later + right + context_after))
    return variants


@dataclass(frozen=True)
class _Lexicon:
    pattern: re.Pattern[str]
    labels: dict[str, str]
    # Any character a term can start with; a text without one cannot match, and most texts are one script.
    first_chars: re.Pattern[str]


def _build_lexicon(terms: list[Term]) -> _Lexicon:
    by_first_char: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    # Longer terms first, so "asshole" wins over "ass" at the same position.
    for term in sorted(terms, key=lambda term: len(term.text), reverse=True):
        for first, rest in _term_variants(term):
            # An empty named group at the end tells which term matched without hiding the first character
            # class from the engine's fast branch skipping.
            name = f"t{len(labels)}"
            labels[name] = term.label
            by_first_char.setdefault(first, []).append(f"{rest}(?P<{name}>)")
    groups = [f"{first}(?:{'|'.join(rests)})" for first, rests in by_first_char.items()]
    return _Lexicon(
        pattern=re.compile("|".join(groups)),
        labels=labels,
        first_chars=re.compile("[" + "".join(first[1:-1] for first in by_first_char) + "]"),
    )


class WordListFilter:
    """Default filter: English and Korean word lists with evasion-aware matching (see the module docstring)."""

    _lexicons = (_build_lexicon(ENGLISH_TERMS), _build_lexicon(KOREAN_TERMS))

    def check(self, text: str, *, language: str) -> ModerationResult:
        normalised, spans = _normalise(text)
        offending: list[tuple[int, int]] = []
        labels: set[str] = set()
        for lexicon in self._lexicons:
            first = lexicon.first_chars.search(normalised)
            if first is None:
                continue
            for match in lexicon.pattern.finditer(normalised, first.start()):
                start, end = match.span()
                offending.append((start, end) if spans is None else (spans[start][0], spans[end - 1][1]))
                labels.add(lexicon.labels[match.lastgroup or ""])
        if not offending:
            return ModerationResult(flagged=False, masked_text=text, labels=[])
        return ModerationResult(flagged=True, masked_text=_mask(text, offending), labels=sorted(labels))


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "*" * (end - start)
    return "".join(chars)
