"""Celery tasks: thin, idempotent, take ids. A worker killed mid-run loses nothing (acks_late): the rerun
recomputes the same figures from the judgments."""

from celery import shared_task
from django.core.cache import cache

from competitions.models import Competition

from . import publication, services


@shared_task(acks_late=True, ignore_result=True)
def competition_recompute_task(competition_id: int) -> None:
    # Delete the debounce key before reading, so a judgment committed during this run queues the next one.
    cache.delete(services.debounce_key(competition_id))
    try:
        services.competition_recompute(competition_id=competition_id)
    except Competition.DoesNotExist:
        return  # deleted since it was queued: nothing left to score


@shared_task(acks_late=True, ignore_result=True)
def recompute_all_competitions() -> None:
    """The beat safety net: catches a lost or never-queued recompute within LEADERBOARD_SAFETY_NET_SECONDS."""
    for competition_id in services.competitions_to_refresh():
        competition_recompute_task.delay(competition_id)


@shared_task(acks_late=True, ignore_result=True)
def leaderboards_publish_due() -> None:
    """Publishes the public copies at their scheduled boundaries (beat), never because of a chat (docs/blinding.md)."""
    publication.leaderboards_publish_due()
