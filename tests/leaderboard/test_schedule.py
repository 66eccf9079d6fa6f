"""Scheduling: a burst of judgments queues one recompute; the beat safety net refreshes what changed."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.db import transaction

from leaderboard import services, tasks
from leaderboard.models import BotScore, LeaderboardSnapshot
from tests.factories import BotFactory, CompetitionFactory

from .conftest import judge_bot

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued():
    """Celery as in production (not eager), with apply_async recorded instead of sent to a broker."""
    app = tasks.competition_recompute_task.app
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    with mock.patch.object(tasks.competition_recompute_task, "apply_async") as apply_async:
        yield apply_async
    app.conf.task_always_eager = was_eager


@pytest.fixture(autouse=True)
def no_pending_debounce(competition):
    cache.delete(services.debounce_key(competition.pk))
    yield
    cache.delete(services.debounce_key(competition.pk))


def test_many_judgments_after_commit_queue_one_recompute(competition, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for _ in range(25):
            transaction.on_commit(lambda: services.recompute_schedule(competition_id=competition.pk))

    assert len(callbacks) == 25
    queued.assert_called_once_with(args=[competition.pk], countdown=services.RECOMPUTE_DEBOUNCE_SECONDS)


def test_nothing_is_queued_before_commit(competition, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        transaction.on_commit(lambda: services.recompute_schedule(competition_id=competition.pk))
    queued.assert_not_called()


def test_each_competition_is_debounced_separately(competition, queued):
    other = CompetitionFactory()
    cache.delete(services.debounce_key(other.pk))
    for _ in range(5):
        services.recompute_schedule(competition_id=competition.pk)
        services.recompute_schedule(competition_id=other.pk)
    assert sorted(call.kwargs["args"][0] for call in queued.call_args_list) == sorted([competition.pk, other.pk])


def test_the_task_reopens_the_debounce_before_computing(competition, bot, queued):
    services.recompute_schedule(competition_id=competition.pk)
    tasks.competition_recompute_task.run(competition.pk)
    services.recompute_schedule(competition_id=competition.pk)

    assert queued.call_count == 2
    assert LeaderboardSnapshot.objects.filter(competition=competition).exists()


def test_eager_celery_computes_right_away(competition, bot):
    if not tasks.competition_recompute_task.app.conf.task_always_eager:
        pytest.skip("Celery runs eagerly only in the embedded default")
    judge_bot(bot=bot, evaluator=bot.team.members.get(), verdict="human")

    services.recompute_schedule(competition_id=competition.pk)

    assert BotScore.objects.get(bot=bot).judgments == 1


def test_safety_net_refreshes_new_and_changed_competitions_only(competition, bot):
    closed = CompetitionFactory(phase="closed")
    draft = CompetitionFactory(phase="draft")
    services.competition_recompute(competition_id=closed.pk)

    assert set(services.competitions_to_refresh()) == {competition.pk}

    closed_bot = BotFactory(competition=closed)
    judge_bot(bot=closed_bot, evaluator=bot.team.members.get(), verdict="bot")
    assert set(services.competitions_to_refresh()) == {competition.pk, closed.pk}
    assert draft.pk not in services.competitions_to_refresh()


def test_safety_net_task_queues_a_recompute_per_competition(competition, bot):
    with mock.patch.object(tasks.competition_recompute_task, "delay") as delay:
        tasks.recompute_all_competitions.run()
    delay.assert_called_once_with(competition.pk)


def test_task_for_a_deleted_competition_does_nothing(competition):
    missing_id = competition.pk + 1000
    tasks.competition_recompute_task.run(missing_id)
    assert not LeaderboardSnapshot.objects.filter(competition_id=missing_id).exists()
