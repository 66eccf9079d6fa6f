"""Response-pattern flags: each rule raises on its pattern, with evidence, and stays quiet below its minimum."""

from leaderboard.rater_quality import ExclusionRules, Flag, Pattern, excluded, flags

RULES = ExclusionRules()


def pattern(**values):
    base = {"judgments": 12, "human_verdicts": 5, "distinct_ratings": 9, "fast": 0, "silent": 0}
    return Pattern(**(base | values))


def test_an_ordinary_evaluator_raises_no_flag():
    assert flags(pattern(), RULES) == {}


def test_same_verdict_needs_the_minimum_number_of_judgments():
    assert flags(pattern(human_verdicts=0), RULES) == {Flag.SAME_VERDICT: "12/12 bot"}
    assert flags(pattern(judgments=9, human_verdicts=9), RULES) == {}


def test_straight_lined_fast_and_silent():
    raised = flags(pattern(distinct_ratings=1, fast=6, silent=7), RULES)
    assert set(raised) == {Flag.STRAIGHT_LINED, Flag.FAST, Flag.SILENT}
    assert raised[Flag.FAST] == "6/12 within 5 s"
    assert flags(pattern(judgments=2, human_verdicts=1, distinct_ratings=1, fast=2, silent=2), RULES) == {}


def test_verdicts_against_own_ratings_are_flagged():
    contradicting = pattern(
        human_verdict_rating_n=5, human_verdict_rating_sum=10, bot_verdict_rating_n=7, bot_verdict_rating_sum=28
    )
    assert flags(contradicting, RULES) == {Flag.CONTRADICTS_RATINGS: "4.0 when 'bot' vs 2.0 when 'human'"}
    consistent = pattern(
        human_verdict_rating_n=5, human_verdict_rating_sum=20, bot_verdict_rating_n=7, bot_verdict_rating_sum=14
    )
    assert flags(consistent, RULES) == {}


def test_failed_attention_checks():
    assert flags(pattern(gold_items=4, gold_failed=2), RULES) == {Flag.FAILED_CHECKS: "2/4 attention checks failed"}
    assert flags(pattern(gold_items=4, gold_failed=1), RULES) == {}


def test_only_the_declared_flags_exclude_and_rules_round_trip():
    rules = ExclusionRules.from_dict({"exclude": ["fast", "unknown"], "fast_seconds": 3})
    assert rules.exclude == ("fast",) and rules.fast_seconds == 3
    assert excluded({Flag.FAST: "..."}, rules)
    assert not excluded({Flag.SILENT: "..."}, rules)
    assert ExclusionRules.from_dict(rules.as_dict()) == rules
