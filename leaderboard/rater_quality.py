"""Rater quality from response patterns alone, with no Django import.

Nothing here looks at whether a verdict was right. Being fooled by a good bot is what a Turing test measures, so
accuracy cannot say who is a careless rater (weighting by it was circular: fooled evaluators lost weight, the best
bots dropped, "always bot" clickers gained). Instead each evaluator's way of answering is checked against rules the
organizer declares before evaluation opens (they are part of the locked analysis plan):

- **same verdict**: every verdict the same over at least `same_verdict_min` judgments;
- **straight-lined**: the same ratings on every chat over at least `straight_line_min` judgments;
- **fast**: at least `fast_share` of the judgments sent within `fast_seconds` of the chat's end;
- **silent**: at least `silent_share` of the judged chats with at most `silent_max_messages` messages of their own;
- **contradicts own ratings**: rating the partner's human-likeness (the first criterion) at least
  `contradiction_gap` points higher on average when saying "bot" than when saying "human" (3+ judgments of each);
- **failed attention checks**: at least `gold_fail_share` of at least `gold_min` items with a known answer (the gold
  items of transcript review, met as attention checks between chats or on the review page) answered wrongly. The
  recompute fills `Pattern.gold_items`/`gold_failed` from review's counts (leaderboard.services).

Each flag carries its evidence, shown to the organizer. An evaluator with a flag listed in `exclude` does not count.
"""

from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Flag(StrEnum):
    SAME_VERDICT = "same_verdict"
    STRAIGHT_LINED = "straight_lined"
    FAST = "fast"
    SILENT = "silent"
    CONTRADICTS_RATINGS = "contradicts_ratings"
    FAILED_CHECKS = "failed_checks"


@dataclass(frozen=True)
class ExclusionRules:
    same_verdict_min: int = 10
    straight_line_min: int = 5
    fast_seconds: int = 5
    fast_share: float = 0.5
    silent_max_messages: int = 1
    silent_share: float = 0.5
    pattern_min: int = 3  # fewer judgments than this: too few to call a share a pattern
    contradiction_gap: float = 0.5
    contradiction_min_each: int = 3
    gold_min: int = 2
    gold_fail_share: float = 0.5
    exclude: tuple[str, ...] = field(default_factory=lambda: tuple(flag.value for flag in Flag))

    def as_dict(self) -> dict:
        values = asdict(self)
        values["exclude"] = list(self.exclude)
        return values

    @classmethod
    def from_dict(cls, values: dict | None) -> "ExclusionRules":
        values = dict(values or {})
        known = {name: values[name] for name in cls.__dataclass_fields__ if name in values}
        if "exclude" in known:
            known["exclude"] = tuple(str(flag) for flag in known["exclude"] if flag in Flag.__members__.values())
        return cls(**known)


@dataclass(frozen=True)
class Pattern:
    """One evaluator's judgments, summarised (counted with the thresholds of the rules in force)."""

    judgments: int
    human_verdicts: int
    distinct_ratings: int  # distinct ratings objects over the judgments
    fast: int  # judgments sent within fast_seconds of the chat's end
    silent: int  # judged chats with at most silent_max_messages messages of the evaluator's own
    human_verdict_rating_n: int = 0  # first-criterion ratings given with a "human" verdict: how many, their sum
    human_verdict_rating_sum: float = 0.0
    bot_verdict_rating_n: int = 0
    bot_verdict_rating_sum: float = 0.0
    gold_items: int = 0  # attention checks with a known answer: how many answered, how many wrongly
    gold_failed: int = 0


def flags(pattern: Pattern, rules: ExclusionRules) -> dict[str, str]:
    """The flags this pattern raises under the rules, each with its evidence in plain numbers."""
    raised: dict[str, str] = {}
    n = pattern.judgments
    if n >= rules.same_verdict_min and pattern.human_verdicts in (0, n):
        verdict = "human" if pattern.human_verdicts else "bot"
        raised[Flag.SAME_VERDICT] = f"{n}/{n} {verdict}"
    if n >= rules.straight_line_min and pattern.distinct_ratings == 1:
        raised[Flag.STRAIGHT_LINED] = f"1 set of ratings over {n}"
    if n >= rules.pattern_min and pattern.fast >= rules.fast_share * n:
        raised[Flag.FAST] = f"{pattern.fast}/{n} within {rules.fast_seconds} s"
    if n >= rules.pattern_min and pattern.silent >= rules.silent_share * n:
        raised[Flag.SILENT] = f"{pattern.silent}/{n} with ≤ {rules.silent_max_messages} own messages"
    if (
        pattern.human_verdict_rating_n >= rules.contradiction_min_each
        and pattern.bot_verdict_rating_n >= rules.contradiction_min_each
    ):
        when_human = pattern.human_verdict_rating_sum / pattern.human_verdict_rating_n
        when_bot = pattern.bot_verdict_rating_sum / pattern.bot_verdict_rating_n
        if when_bot - when_human >= rules.contradiction_gap:
            raised[Flag.CONTRADICTS_RATINGS] = f"{when_bot:.1f} when 'bot' vs {when_human:.1f} when 'human'"
    if pattern.gold_items >= rules.gold_min and pattern.gold_failed >= rules.gold_fail_share * pattern.gold_items:
        raised[Flag.FAILED_CHECKS] = f"{pattern.gold_failed}/{pattern.gold_items} attention checks failed"
    return raised


def excluded(raised: dict[str, str], rules: ExclusionRules) -> bool:
    return any(flag in rules.exclude for flag in raised)
