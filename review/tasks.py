"""Celery tasks: thin, idempotent, take ids (the same shape as leaderboard.tasks)."""

from celery import shared_task
from django.core.cache import cache

from competitions.models import Competition

from . import services


@shared_task(acks_late=True, ignore_result=True)
def review_recompute_task(competition_id: int) -> None:
    # Delete the debounce key before reading, so a review committed during this run queues the next one.
    cache.delete(services.debounce_key(competition_id))
    try:
        services.review_recompute(competition_id=competition_id)
    except Competition.DoesNotExist:
        return


@shared_task(acks_late=True, ignore_result=True)
def review_recompute_all() -> None:
    """The beat safety net: catches a lost or never-queued recompute."""
    for competition_id in services.competitions_to_refresh():
        review_recompute_task.delay(competition_id)
