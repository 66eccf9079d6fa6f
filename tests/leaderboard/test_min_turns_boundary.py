"""A chat counts when it has at least `min_turns_to_count` messages: exactly that many counts, one fewer does not.

Checked through the published figures (competition_recompute), both from the Postgres tallies and from the portable
queries, so that a change of either, or of the statistics on top, cannot drop boundary judgments unnoticed.
"""

from unittest import mock

import pytest
from django.db import connection

from competitions.models import Competition
from leaderboard import tallies
from leaderboard.models import BotScore
from leaderboard.services import competition_recompute
from tests.factories import BotFactory, CompetitionFactory, EvaluatorFactory

from .conftest import judge_bot

pytestmark = pytest.mark.django_db

ON_POSTGRES = connection.vendor == "postgresql"


@pytest.fixture(params=["tallies", "portable"])
def figures_from(request):
    """Recompute from the Postgres tallies, or from the portable queries (also on Postgres, with tallies off)."""
    if request.param == "tallies":
        if not ON_POSTGRES:
            pytest.skip("the tallies are kept by Postgres triggers")
        yield request.param
        return
    with mock.patch.object(tallies, "tallies_kept", return_value=False):
        yield request.param


def judge_with_counts(competition, counts: list[int]):
    bot = BotFactory(competition=competition)
    for count in counts:
        evaluator = EvaluatorFactory(competition=competition).user
        judge_bot(bot=bot, evaluator=evaluator, verdict="human", message_count=count)
    return bot


@pytest.mark.parametrize(
    ("counts", "counted", "short"),
    [
        ([3], 0, 1),  # one below the minimum
        ([4], 1, 0),  # exactly the minimum
        ([5], 1, 0),  # one above
        ([0, 3, 4, 5, 40], 3, 2),
    ],
)
def test_a_chat_with_exactly_min_turns_messages_is_counted(figures_from, counts, counted, short):
    competition = CompetitionFactory(min_turns_to_count=4)
    bot = judge_with_counts(competition, counts)
    snapshot = competition_recompute(competition_id=competition.pk)
    assert (snapshot.judgments_counted, snapshot.excluded_short_judgments) == (counted, short)
    assert snapshot.judgments_total == len(counts)
    score = BotScore.objects.filter(bot=bot).first()
    assert (score.judgments if score else 0) == counted


@pytest.mark.parametrize(("minimum", "counted", "short"), [(3, 3, 0), (4, 2, 1), (5, 1, 2), (6, 0, 3)])
def test_changing_the_minimum_recounts_the_judgments_on_its_boundary(figures_from, minimum, counted, short):
    competition = CompetitionFactory(min_turns_to_count=1)
    judge_with_counts(competition, [3, 4, 5])
    Competition.objects.filter(pk=competition.pk).update(min_turns_to_count=minimum)
    snapshot = competition_recompute(competition_id=competition.pk)
    assert (snapshot.judgments_counted, snapshot.excluded_short_judgments) == (counted, short)


def test_a_minimum_of_zero_counts_a_chat_with_no_messages(figures_from):
    competition = CompetitionFactory(min_turns_to_count=0)
    judge_with_counts(competition, [0])
    snapshot = competition_recompute(competition_id=competition.pk)
    assert (snapshot.judgments_counted, snapshot.excluded_short_judgments) == (1, 0)
