"""competition_recompute: known judgments in, known figures out."""

import krippendorff
import numpy as np
import pytest
from django.db import connection
from django.forms.models import model_to_dict
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import proportion_confint

from chat.models import Evaluator, Judgment
from competitions.models import BotCall
from leaderboard import aggregates
from leaderboard.models import BotDailyScore, BotScore, EvaluatorScore, LeaderboardSnapshot
from leaderboard.services import competition_recompute
from tests.factories import BotFactory, UserFactory

from .conftest import judge_bot, judge_human

pytestmark = pytest.mark.django_db


def wilson(successes, n):
    return pytest.approx(proportion_confint(successes, n, alpha=0.05, method="wilson"))


def test_pass_rates_and_wilson_intervals_per_bot(scenario):
    competition_recompute(competition_id=scenario.competition.pk)

    alice = BotScore.objects.get(bot=scenario.alice)
    bob = BotScore.objects.get(bot=scenario.bob)
    assert (alice.judgments, alice.judged_human, alice.pass_rate) == (20, 18, pytest.approx(0.9))
    assert (alice.pass_low, alice.pass_high) == wilson(18, 20)
    assert (bob.judgments, bob.judged_human) == (20, 2)
    assert (bob.pass_low, bob.pass_high) == wilson(2, 20)


def test_exclusions_are_counted_and_left_out(scenario):
    snapshot = competition_recompute(competition_id=scenario.competition.pk)

    assert snapshot.excluded_short_judgments == 1
    assert snapshot.excluded_bot_failed_judgments == 1
    assert snapshot.excluded_evaluator_judgments == 2
    assert snapshot.bot_failed_chats == 2
    assert snapshot.judgments_total == 20 + 20 + 10 + 5 + 4
    assert snapshot.judgments_counted == 20 + 20 + 10 + 5
    assert (snapshot.evaluators_total, snapshot.evaluators_suspended, snapshot.evaluators_not_onboarded) == (6, 1, 1)
    assert snapshot.evaluators_counted == 4


def test_failure_rate_counts_finished_chats(scenario):
    competition_recompute(competition_id=scenario.competition.pk)

    bob = BotScore.objects.get(bot=scenario.bob)
    assert (bob.chats, bob.failed_chats) == (22, 2)
    assert bob.failure_rate == pytest.approx(2 / 22)


def test_human_baseline_from_control_chats(scenario):
    snapshot = competition_recompute(competition_id=scenario.competition.pk)

    assert snapshot.baseline_judgments == 5
    assert snapshot.baseline_rate == pytest.approx(0.8)
    assert (snapshot.baseline_low, snapshot.baseline_high) == wilson(4, 5)


def test_criteria_means_with_t_intervals_match_scipy(scenario):
    competition_recompute(competition_id=scenario.competition.pk)

    figures = BotScore.objects.get(bot=scenario.alice).criteria
    for key in scenario.competition.criteria_keys:
        values = [ratings[key] for ratings in scenario.alice_ratings]
        low, high = scipy_stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=scipy_stats.sem(values))
        assert figures[key]["n"] == 20
        assert figures[key]["mean"] == pytest.approx(np.mean(values))
        assert (figures[key]["low"], figures[key]["high"]) == pytest.approx((low, high))


def test_mean_confidence_and_median_latency(scenario):
    competition_recompute(competition_id=scenario.competition.pk)

    alice = BotScore.objects.get(bot=scenario.alice)
    assert alice.mean_confidence == pytest.approx(4.0)
    assert alice.median_latency_ms == pytest.approx(250.0, rel=0.005)  # Postgres: from the histogram
    assert BotScore.objects.get(bot=scenario.bob).median_latency_ms is None


def _value_counts(scenario, key):
    """Units (bots) × values (1..5): how often each rating was given in the bot's counted judgments."""
    bots = [scenario.alice, scenario.bob, scenario.eliza]
    table = np.zeros((len(bots), 5), dtype=int)
    for unit, bot in enumerate(bots):
        counted = (
            Judgment.objects.filter(bot=bot, message_count__gte=scenario.competition.min_turns_to_count)
            .exclude(conversation__status="bot_failed")
            .exclude(evaluator__in=[scenario.suspended, scenario.not_onboarded])
        )
        for judgment in counted:
            table[unit, judgment.ratings[key] - 1] += 1
    return table


def test_krippendorff_alpha_per_criterion_matches_the_package_on_value_counts(scenario):
    snapshot = competition_recompute(competition_id=scenario.competition.pk)

    keys = scenario.competition.criteria_keys
    for key in keys:
        expected = krippendorff.alpha(
            value_counts=_value_counts(scenario, key), value_domain=[1, 2, 3, 4, 5], level_of_measurement="interval"
        )
        assert snapshot.alpha_by_criterion[key] == pytest.approx(expected)
    assert snapshot.alpha == snapshot.alpha_by_criterion[keys[0]]
    assert (snapshot.alpha_units, snapshot.alpha_values) == (3, 20 + 20 + 10)


def test_ranks_are_honest_and_baselines_unranked(scenario):
    competition_recompute(competition_id=scenario.competition.pk)

    scores = {score.bot.name: score for score in BotScore.objects.select_related("bot")}
    assert scores["alice"].rank == 1
    assert scores["bob"].rank == 2
    assert scores["eliza"].rank is None
    assert [s.bot.name for s in BotScore.objects.order_by("position")] == ["alice", "eliza", "bob"]


def test_overlapping_intervals_share_a_rank(competition, bot):
    rival = BotFactory(competition=competition, name="rival")
    idle = BotFactory(competition=competition, name="idle")
    for i in range(10):
        judge_bot(bot=bot, evaluator=bot.team.members.first(), verdict="human" if i < 6 else "bot")
        judge_bot(bot=rival, evaluator=bot.team.members.first(), verdict="human" if i < 5 else "bot")

    competition_recompute(competition_id=competition.pk)

    assert BotScore.objects.get(bot=bot).rank == 1
    assert BotScore.objects.get(bot=rival).rank == 1
    assert BotScore.objects.get(bot=idle).rank is None
    assert BotScore.objects.get(bot=idle).position == 3


def test_daily_figures_per_bot(scenario):
    competition_recompute(competition_id=scenario.competition.pk)

    days = list(BotDailyScore.objects.filter(bot=scenario.alice).order_by("day"))
    assert [(d.day, d.judgments, d.judged_human) for d in days] == [
        (scenario.day_one.date(), 10, 10),
        ((scenario.day_one.date().fromordinal(scenario.day_one.date().toordinal() + 1)), 10, 8),
    ]
    assert (days[1].pass_low, days[1].pass_high) == wilson(8, 10)


def test_evaluator_accuracy_and_exclusion(scenario):
    competition_recompute(competition_id=scenario.competition.pk)

    judge0 = EvaluatorScore.objects.get(user=scenario.evaluators[0])
    # judge0: alice i=0,4,8,12,16 (all "human": wrong), bob 0,4,8,12,16 (i=0 human: wrong, 4 correct),
    # eliza 0,4,8 (0,4 wrong), controls i=0,4 (0 human: correct, 4 bot: wrong).
    assert judge0.judgments == 5 + 5 + 3 + 2
    assert judge0.correct == 0 + 4 + 1 + 1
    assert judge0.accuracy == pytest.approx(6 / 15)
    assert EvaluatorScore.objects.get(user=scenario.suspended).exclusion == "suspended"
    assert EvaluatorScore.objects.get(user=scenario.not_onboarded).exclusion == "not_onboarded"


def test_weighting_by_accuracy_uses_effective_sample_size(competition, bot):
    competition.weight_evaluators_by_accuracy = True
    competition.save(update_fields=["weight_evaluators_by_accuracy"])
    sharp, gullible, other = UserFactory(), UserFactory(), UserFactory()
    for _ in range(2):
        judge_bot(bot=bot, evaluator=sharp, verdict="bot")
        judge_bot(bot=bot, evaluator=gullible, verdict="human")
        judge_human(competition=competition, evaluator=gullible, partner=other, verdict="human")

    competition_recompute(competition_id=competition.pk)

    score = BotScore.objects.get(bot=bot)
    # Weights: sharp 1.0 (2 of 2 right), gullible 0.5 (2 of 4 right): rate = 1/3, n_eff = 3² / 2.5.
    assert score.pass_rate == pytest.approx(1 / 3)
    assert score.effective_n == pytest.approx(9 / 2.5)
    assert (score.pass_low, score.pass_high) == pytest.approx(
        proportion_confint(score.effective_n / 3, score.effective_n, method="wilson")
    )


def _stored_state(competition):
    snapshot = model_to_dict(LeaderboardSnapshot.objects.get(competition=competition), exclude=["id", "computed_at"])
    snapshot.pop("duration_ms")
    return (
        snapshot,
        [model_to_dict(s, exclude=["id", "computed_at"]) for s in BotScore.objects.order_by("bot_id")],
        [model_to_dict(s, exclude=["id"]) for s in BotDailyScore.objects.order_by("bot_id", "day")],
        [model_to_dict(s, exclude=["id"]) for s in EvaluatorScore.objects.order_by("user_id")],
    )


def test_recompute_is_idempotent(scenario):
    competition_recompute(competition_id=scenario.competition.pk)
    first = _stored_state(scenario.competition)
    competition_recompute(competition_id=scenario.competition.pk)

    assert _stored_state(scenario.competition) == first
    assert LeaderboardSnapshot.objects.count() == 1
    assert BotScore.objects.count() == 3


def test_a_suspension_removes_the_evaluators_judgments_on_the_next_run(scenario):
    competition_recompute(competition_id=scenario.competition.pk)
    Evaluator.objects.filter(user=scenario.evaluators[0]).update(status=Evaluator.Status.SUSPENDED)

    snapshot = competition_recompute(competition_id=scenario.competition.pk)

    assert BotScore.objects.get(bot=scenario.alice).judgments == 15
    assert snapshot.excluded_evaluator_judgments == 2 + 15


def test_median_latency_from_the_histogram_is_within_half_a_percent_of_the_exact_median(scenario):
    if connection.vendor != "postgresql":
        pytest.skip("the latency histograms are kept by Postgres triggers")
    for latency in [50.0, 75.0, 1000.0]:
        BotCall.objects.create(bot=scenario.bob, purpose=BotCall.Purpose.TURN, ok=True, latency_ms=latency)

    from_histogram = aggregates.median_latency_per_bot(scenario.competition)

    exact = aggregates._median_latency_portable(scenario.competition)
    assert exact == {scenario.alice.pk: 250.0, scenario.bob.pk: 75.0}
    assert from_histogram == {bot_id: pytest.approx(median, rel=0.005) for bot_id, median in exact.items()}
