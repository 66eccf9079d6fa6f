"""Each response-pattern rule at, below and above its limits (issue 16): the minimum number of judgments, the share,
the rating gap and the attention-check count, with the default rules an organizer sees in the analysis plan."""

import pytest

from leaderboard.rater_quality import ExclusionRules, Flag, Pattern, flags

RULES = ExclusionRules()


def pattern(**values):
    base = {"judgments": 12, "human_verdicts": 5, "distinct_ratings": 9, "fast": 0, "silent": 0}
    return Pattern(**(base | values))


@pytest.mark.parametrize(("judgments", "raised"), [(9, False), (10, True), (11, True)])
def test_same_verdict_from_exactly_ten_judgments(judgments, raised):
    assert (Flag.SAME_VERDICT in flags(pattern(judgments=judgments, human_verdicts=0), RULES)) is raised


def test_same_verdict_names_the_verdict_given_every_time():
    assert flags(pattern(judgments=10, human_verdicts=10), RULES) == {Flag.SAME_VERDICT: "10/10 human"}
    assert flags(pattern(judgments=10, human_verdicts=0), RULES) == {Flag.SAME_VERDICT: "10/10 bot"}
    assert flags(pattern(judgments=10, human_verdicts=9), RULES) == {}


@pytest.mark.parametrize(("judgments", "raised"), [(4, False), (5, True), (6, True)])
def test_straight_lined_from_exactly_five_judgments(judgments, raised):
    result = flags(pattern(judgments=judgments, human_verdicts=1, distinct_ratings=1), RULES)
    assert (Flag.STRAIGHT_LINED in result) is raised


@pytest.mark.parametrize("signal", ["fast", "silent"])
@pytest.mark.parametrize(("judgments", "raised"), [(2, False), (3, True), (4, True)])
def test_fast_and_silent_need_three_judgments_to_be_a_pattern(signal, judgments, raised):
    result = flags(pattern(judgments=judgments, human_verdicts=1, **{signal: judgments}), RULES)
    assert (Flag(signal) in result) is raised


@pytest.mark.parametrize("signal", ["fast", "silent"])
@pytest.mark.parametrize(("count", "raised"), [(5, False), (6, True), (7, True)])
def test_fast_and_silent_from_exactly_half_of_the_judgments(signal, count, raised):
    result = flags(pattern(judgments=12, **{signal: count}), RULES)
    assert (Flag(signal) in result) is raised


def test_silent_evidence_names_the_counts_and_the_limit():
    assert flags(pattern(silent=6), RULES) == {Flag.SILENT: "6/12 with ≤ 1 own messages"}


def ratings(*, human_n=3, human_mean=3.0, bot_n=3, bot_mean=3.5):
    return pattern(
        human_verdict_rating_n=human_n,
        human_verdict_rating_sum=human_mean * human_n,
        bot_verdict_rating_n=bot_n,
        bot_verdict_rating_sum=bot_mean * bot_n,
    )


@pytest.mark.parametrize(("bot_mean", "raised"), [(3.25, False), (3.5, True), (3.75, True)])
def test_contradiction_from_a_gap_of_exactly_half_a_point(bot_mean, raised):
    assert (Flag.CONTRADICTS_RATINGS in flags(ratings(bot_mean=bot_mean), RULES)) is raised


@pytest.mark.parametrize("side", ["human_n", "bot_n"])
@pytest.mark.parametrize(("count", "raised"), [(2, False), (3, True), (4, True)])
def test_contradiction_needs_three_ratings_with_each_verdict(side, count, raised):
    assert (Flag.CONTRADICTS_RATINGS in flags(ratings(**{side: count}), RULES)) is raised


@pytest.mark.parametrize(("items", "failed", "raised"), [(1, 1, False), (2, 1, True), (3, 2, True), (3, 1, False)])
def test_failed_checks_from_two_items_and_half_of_them_wrong(items, failed, raised):
    assert (Flag.FAILED_CHECKS in flags(pattern(gold_items=items, gold_failed=failed), RULES)) is raised


def test_the_rules_are_stored_with_the_flags_to_exclude_as_a_list():
    stored = ExclusionRules(exclude=("fast", "silent")).as_dict()
    assert stored["exclude"] == ["fast", "silent"]
    assert set(stored) == set(ExclusionRules.__dataclass_fields__)
