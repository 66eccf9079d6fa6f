"""The review recompute is queued after commit and debounced, like the main leaderboard's."""

import random
from unittest import mock

import pytest
from django.core.cache import cache

from review import services, tasks
from review.models import ReviewSnapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(world, settings):
    """Celery as in production (not eager), with apply_async recorded instead of sent to a broker.

    The Django setting is overridden too: in the embedded default Celery's conf reads it through."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app = tasks.review_recompute_task.app
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    cache.delete(services.debounce_key(world.competition.pk))
    with mock.patch.object(tasks.review_recompute_task, "apply_async") as apply_async:
        yield apply_async
    app.conf.task_always_eager = was_eager
    cache.delete(services.debounce_key(world.competition.pk))


def _review(world, reviewer, seed):
    assignment = services.review_next(competition=world.competition, user=reviewer, rng=random.Random(seed))
    if assignment.item.kind == "single":
        services.review_record_single(
            assignment_id=assignment.pk, user=reviewer, verdict="bot", confidence=3, reason="x"
        )
    else:
        services.review_record_pairwise(assignment_id=assignment.pk, user=reviewer, chosen_side="left", reason="x")


def test_a_burst_of_reviews_queues_one_recompute_after_commit(world, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _review(world, world.reviewers[0], 1)
    queued.assert_not_called()
    for callback in callbacks:
        callback()
    with django_capture_on_commit_callbacks(execute=True):
        for n, reviewer in enumerate(world.reviewers[1:]):
            _review(world, reviewer, n)
    queued.assert_called_once_with(args=[world.competition.pk], countdown=services.RECOMPUTE_DEBOUNCE_SECONDS)


def test_the_task_reopens_the_debounce_and_computes(world, queued):
    _review(world, world.reviewers[0], 1)
    services.review_recompute_schedule(competition_id=world.competition.pk)
    assert cache.get(services.debounce_key(world.competition.pk)) is not None
    tasks.review_recompute_task(world.competition.pk)
    assert cache.get(services.debounce_key(world.competition.pk)) is None
    assert (
        ReviewSnapshot.objects.get(competition=world.competition).single_counted
        + ReviewSnapshot.objects.get(competition=world.competition).pairwise_counted
        == 1
    )


def test_a_broker_outage_does_not_lose_the_saved_review(world, queued, django_capture_on_commit_callbacks):
    queued.side_effect = ConnectionError("broker down")
    with django_capture_on_commit_callbacks(execute=True):
        _review(world, world.reviewers[0], 1)
    assert world.reviewers[0].review_assignments.get().status == "done"


def test_the_safety_net_refreshes_competitions_with_new_reviews(world, queued):
    assert services.competitions_to_refresh() == []
    _review(world, world.reviewers[0], 1)
    assert services.competitions_to_refresh() == [world.competition.pk]
    services.review_recompute(competition_id=world.competition.pk, replicates=10)
    assert services.competitions_to_refresh() == []
