"""Rater quality through the recompute: response patterns flag evaluators, the declared rules exclude them, the
organizer sees the evidence; accuracy never weighs a judgment. And the analysis plan is locked and its changes shown."""

from dataclasses import replace
from datetime import timedelta
from unittest import mock

import numpy as np
import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from chat.models import Conversation
from competitions.services import competition_set_phase
from leaderboard import aggregates, tallies
from leaderboard.models import AnalysisPlan, BotScore, EvaluatorScore
from leaderboard.plan import plan_hash
from leaderboard.rater_quality import ExclusionRules
from leaderboard.services import competition_recompute
from tests.factories import (
    BotFactory,
    CompetitionFactory,
    ConversationFactory,
    EvaluatorFactory,
    JudgmentFactory,
    MessageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def judged_chat(*, bot, user, verdict, rating, own_messages=3, seconds=40):
    """A finished chat with `own_messages` of the evaluator's own, judged `seconds` after it ended."""
    ended = timezone.now() - timedelta(hours=1)
    conversation = ConversationFactory(
        competition=bot.competition, bot=bot, evaluator_a=user, status=Conversation.Status.ENDED, ended_at=ended
    )
    for seq in range(own_messages):
        MessageFactory(conversation=conversation, seq=seq + 1, side="a")
    ratings = dict.fromkeys(bot.competition.criteria_keys, rating)
    return JudgmentFactory(
        conversation=conversation, verdict=verdict, ratings=ratings, created_at=ended + timedelta(seconds=seconds)
    )


@pytest.fixture
def competition_with_a_clicker():
    """Three honest evaluators judging a bot; one "always bot" evaluator with straight-lined ratings, in seconds,
    silent. The bot is judged human 6 of 12 times by the honest ones; the clicker adds 12 "bot" verdicts."""
    competition = CompetitionFactory()
    bot = BotFactory(competition=competition, name="mimic")
    honest = [UserFactory(username=f"honest{i}") for i in range(3)]
    clicker = UserFactory(username="clicker")
    for user in [*honest, clicker]:
        EvaluatorFactory(competition=competition, user=user)
    for i in range(12):
        judged_chat(bot=bot, user=honest[i % 3], verdict="human" if i % 2 else "bot", rating=4 if i % 2 else 2 + i % 3)
        judged_chat(bot=bot, user=clicker, verdict="bot", rating=1, own_messages=0, seconds=2)
    return competition, bot, clicker


def test_a_clicker_is_flagged_with_evidence_and_excluded_by_the_declared_rules(competition_with_a_clicker):
    competition, bot, clicker = competition_with_a_clicker

    snapshot = competition_recompute(competition_id=competition.pk)

    score = EvaluatorScore.objects.get(user=clicker)
    assert score.exclusion == EvaluatorScore.Exclusion.FLAGGED
    assert score.flags == {
        "same_verdict": "12/12 bot",
        "straight_lined": "1 set of ratings over 12",
        "fast": "12/12 within 5 s",
        "silent": "12/12 with ≤ 1 own messages",
    }
    assert EvaluatorScore.objects.filter(flags={}).count() == 3
    rate = BotScore.objects.get(bot=bot)
    assert (rate.judgments, rate.evaluators, rate.pass_rate) == (12, 3, 0.5)
    assert (snapshot.excluded_flagged_judgments, snapshot.evaluators_flagged, snapshot.judgments_counted) == (12, 1, 12)


def test_flags_that_the_plan_does_not_name_are_shown_but_do_not_exclude(competition_with_a_clicker):
    competition, bot, clicker = competition_with_a_clicker
    competition.exclusion_rules = {"exclude": ["failed_checks"]}
    competition.save(update_fields=["exclusion_rules"])

    competition_recompute(competition_id=competition.pk)

    score = EvaluatorScore.objects.get(user=clicker)
    assert score.exclusion == EvaluatorScore.Exclusion.NONE and "same_verdict" in score.flags
    assert BotScore.objects.get(bot=bot).pass_rate == pytest.approx(6 / 24)


def test_being_fooled_costs_an_evaluator_nothing(competition_with_a_clicker):
    # Accuracy weighting made fooled evaluators lose weight. Now an evaluator who calls the bot human 10 times of 12
    # (accuracy 17%; consistently with their ratings, at a human pace) counts fully.
    competition, bot, _clicker = competition_with_a_clicker
    fooled = UserFactory(username="fooled")
    EvaluatorFactory(competition=competition, user=fooled)
    for i in range(12):
        judged_chat(bot=bot, user=fooled, verdict="human" if i < 10 else "bot", rating=5 - i % 2 if i < 10 else 2)

    competition_recompute(competition_id=competition.pk)

    score = EvaluatorScore.objects.get(user=fooled)
    assert (score.exclusion, score.flags, score.accuracy) == ("", {}, pytest.approx(2 / 12))
    assert BotScore.objects.get(bot=bot).pass_rate == pytest.approx(16 / 24)


def test_flagged_evaluators_appear_in_the_control_room_with_evidence(client, competition_with_a_clicker, organizer):
    competition, _bot, _clicker = competition_with_a_clicker
    competition_recompute(competition_id=competition.pk)
    client.force_login(organizer)

    html = client.get(reverse("admin:controlroom_controlroom_room", args=[competition.pk])).content.decode()
    evaluators_page = client.get(reverse("leaderboard-evaluators", kwargs={"slug": competition.slug}))

    assert "<strong>clicker</strong>" in html and "Always the same verdict — 12/12 bot" in html
    assert "honest0" not in html
    assert "12/12 within 5 s" in evaluators_page.content.decode()


def test_the_analysis_plan_is_locked_when_evaluation_opens_and_later_changes_are_logged(client):
    competition = CompetitionFactory(phase="registration")
    assert not AnalysisPlan.objects.filter(competition=competition).exists()

    competition_set_phase(competition=competition, phase="evaluation")
    locked = AnalysisPlan.objects.get(competition=competition)
    assert locked.kind == AnalysisPlan.Kind.LOCKED
    assert locked.sha256 == plan_hash(locked.plan)
    assert locked.plan["equivalence_margin"] == 0.1 and locked.plan["min_judgments_to_rank"] == 30

    snapshot = competition_recompute(competition_id=competition.pk)
    assert snapshot.plan_sha256 == locked.sha256
    assert AnalysisPlan.objects.filter(competition=competition).count() == 1  # nothing changed: nothing recorded

    competition.equivalence_margin = 0.05
    competition.save(update_fields=["equivalence_margin"])
    snapshot = competition_recompute(competition_id=competition.pk)

    changed = AnalysisPlan.objects.filter(competition=competition).order_by("recorded_at", "id").last()
    assert changed.kind == AnalysisPlan.Kind.CHANGED and changed.plan["equivalence_margin"] == 0.05
    assert snapshot.plan_sha256 == changed.sha256 != locked.sha256
    page = client.get(competition.get_absolute_url()).content.decode()
    assert locked.sha256 in page and changed.sha256 in page
    assert "Changes after evaluation opened" in page and "margin ±5 points" in page
    versions = client.get(reverse("leaderboard-plan", kwargs={"slug": competition.slug})).json()["versions"]
    assert [v["sha256"] for v in versions] == [locked.sha256, changed.sha256]


def test_no_plan_is_locked_before_evaluation():
    competition = CompetitionFactory(phase="registration")
    snapshot = competition_recompute(competition_id=competition.pk)
    assert snapshot.plan_sha256 == ""
    assert not AnalysisPlan.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the tallies are Postgres's")
def test_the_tallies_on_postgres_agree_with_the_portable_queries(competition_with_a_clicker):
    competition, bot, clicker = competition_with_a_clicker
    suspended = UserFactory(username="suspended")
    EvaluatorFactory(competition=competition, user=suspended, status="suspended")
    for i in range(4):
        judged_chat(bot=bot, user=suspended, verdict="human" if i % 2 else "bot", rating=3 + i % 2)
    judged_chat(bot=bot, user=clicker, verdict="human", rating=1, own_messages=1, seconds=4)
    exclusions = aggregates.Exclusions.for_competition(competition)
    rules = ExclusionRules()

    kept = aggregates.evaluator_figures(competition, exclusions, rules)
    with mock.patch.object(tallies, "tallies_kept", return_value=False):
        portable = aggregates.evaluator_figures(competition, exclusions, rules)

    def rows(cells):
        return sorted(map(tuple, np.nan_to_num(cells, nan=-1).tolist()))

    assert rows(kept.cells) == rows(portable.cells)
    assert len(rows(portable.cells)) == 4  # three honest evaluators and the clicker: a suspension does not count
    assert kept.patterns.keys() == portable.patterns.keys()
    for evaluator, pattern in kept.patterns.items():
        other = portable.patterns[evaluator]
        assert (pattern.distinct_ratings == 1) == (other.distinct_ratings == 1)
        assert replace(pattern, distinct_ratings=0) == replace(other, distinct_ratings=0)


def test_a_new_clicker_is_flagged_at_the_next_recompute(competition_with_a_clicker):
    competition, bot, _clicker = competition_with_a_clicker
    competition_recompute(competition_id=competition.pk)
    late = UserFactory(username="late-clicker")
    EvaluatorFactory(competition=competition, user=late)
    for _ in range(12):
        judged_chat(bot=bot, user=late, verdict="bot", rating=1, own_messages=0, seconds=1)

    competition_recompute(competition_id=competition.pk)

    assert EvaluatorScore.objects.get(user=late).exclusion == EvaluatorScore.Exclusion.FLAGGED
    assert BotScore.objects.get(bot=bot).judgments == 12
