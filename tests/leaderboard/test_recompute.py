"""competition_recompute: known judgments in, known figures out."""

import numpy as np
import pytest
from django.db import connection
from django.forms.models import model_to_dict
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import proportion_confint

from chat.models import Conversation, Evaluator
from competitions.models import BotCall
from leaderboard import aggregates
from leaderboard.models import BotDailyScore, BotScore, EvaluatorScore, LeaderboardSnapshot
from leaderboard.services import competition_recompute
from tests.factories import BotFactory, EvaluatorFactory, UserFactory

from .conftest import game_with, judge_bot, judge_human

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


def test_two_party_chat_counts_leave_out_the_bot_conversations_of_games(scenario):
    """A three-party game is two conversations; its bot conversation is the game's, scored on the game board."""
    game_with(scenario, bot=scenario.bob, status=Conversation.Status.ENDED)
    game_with(scenario, bot=scenario.bob, status=Conversation.Status.BOT_FAILED)

    snapshot = competition_recompute(competition_id=scenario.competition.pk)

    bob = BotScore.objects.get(bot=scenario.bob)
    assert (bob.chats, bob.failed_chats) == (22, 2)
    assert snapshot.bot_failed_chats == 2


def test_human_baseline_from_control_chats(scenario):
    snapshot = competition_recompute(competition_id=scenario.competition.pk)

    assert snapshot.baseline_judgments == 5
    assert snapshot.baseline_rate == pytest.approx(0.8)
    assert (snapshot.baseline_low, snapshot.baseline_high) == wilson(4, 5)


def test_criteria_means_with_cluster_bootstrap_intervals_inside_the_scale(scenario):
    competition_recompute(competition_id=scenario.competition.pk)

    figures = BotScore.objects.get(bot=scenario.alice).criteria
    evaluators = len(scenario.evaluators)
    for key in scenario.competition.criteria_keys:
        values = np.array([ratings[key] for ratings in scenario.alice_ratings], dtype=float)
        # Judgment i was made by evaluator i % 4: resample evaluators with scipy's bootstrap (percentile method).
        counts = np.bincount(np.arange(20) % evaluators, minlength=evaluators).astype(float)
        sums = np.bincount(np.arange(20) % evaluators, weights=values, minlength=evaluators)
        reference = scipy_stats.bootstrap(
            (counts, sums),
            lambda n, total: total.sum() / n.sum(),
            paired=True,
            vectorized=False,
            method="percentile",
            n_resamples=4000,
            random_state=1,
        ).confidence_interval
        assert (figures[key]["n"], figures[key]["evaluators"]) == (20, 4)
        assert figures[key]["mean"] == pytest.approx(values.mean())
        # Four evaluators make a coarse, discrete bootstrap distribution: its 2.5% and 97.5% points move with the
        # draws (the competition's id seeds ours), so the two Monte Carlo estimates agree only roughly.
        assert figures[key]["low"] == pytest.approx(reference.low, abs=0.3)
        assert figures[key]["high"] == pytest.approx(reference.high, abs=0.3)
        assert 1 <= figures[key]["low"] <= figures[key]["mean"] <= figures[key]["high"] <= 5


def test_mean_confidence_and_median_latency(scenario):
    competition_recompute(competition_id=scenario.competition.pk)

    alice = BotScore.objects.get(bot=scenario.alice)
    assert alice.mean_confidence == pytest.approx(4.0)
    assert alice.median_latency_ms == pytest.approx(250.0, rel=0.005)  # Postgres: from the histogram
    assert BotScore.objects.get(bot=scenario.bob).median_latency_ms is None


def test_ranks_are_honest_and_baselines_unranked(scenario):
    competition_recompute(competition_id=scenario.competition.pk)

    scores = {score.bot.name: score for score in BotScore.objects.select_related("bot")}
    assert scores["alice"].rank == 1
    assert scores["bob"].rank == 2
    assert scores["eliza"].rank is None
    assert (scores["alice"].rank_low, scores["alice"].rank_high) == (1, 1)
    # Display order follows rank; unranked bots (here the baseline bot) come after the ranked ones.
    assert [s.bot.name for s in BotScore.objects.order_by("position")] == ["alice", "bob", "eliza"]


def test_overlapping_intervals_share_a_rank(competition, bot):
    competition.min_judgments_to_rank = 10
    competition.exclusion_rules = {"exclude": []}  # factory chats have no messages: everyone is "silent"
    competition.save(update_fields=["min_judgments_to_rank", "exclusion_rules"])
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
    assert (BotScore.objects.get(bot=rival).rank_low, BotScore.objects.get(bot=rival).rank_high) == (1, 2)


def test_a_bot_with_fewer_than_the_minimum_judgments_is_not_ranked_even_at_100_percent(competition, bot):
    # The audit's case: 12 of 12 "human" got no rank while a 0 of 12 bot ranked 1 (accuracy weighting). Now neither
    # is ranked below the minimum, and the 12/12 bot is told how many more judgments it needs.
    competition.exclusion_rules = {"exclude": []}
    competition.save(update_fields=["exclusion_rules"])
    partner = UserFactory()
    for _ in range(12):
        user = UserFactory()
        EvaluatorFactory(competition=competition, user=user)
        judge_bot(bot=bot, evaluator=user, verdict="human")
        judge_human(competition=competition, evaluator=user, partner=partner, verdict="human")

    competition_recompute(competition_id=competition.pk)

    score = BotScore.objects.get(bot=bot)
    assert (score.judgments, score.evaluators, score.pass_rate) == (12, 12, 1.0)
    assert score.rank is None
    assert score.verdict == BotScore.Verdict.NOT_ENOUGH_DATA
    assert score.more_judgments >= competition.min_judgments_to_rank - 12


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
