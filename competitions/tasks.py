"""Celery tasks for bots: thin wrappers that take ids and call competitions.health."""

from celery import shared_task

from competitions.health import bot_health_check
from competitions.models import Bot, Competition


@shared_task(acks_late=True)
def bot_health_check_task(bot_id: int) -> None:
    """Probe one bot and record the outcome; a bot deleted meanwhile is skipped."""
    if Bot.objects.filter(id=bot_id).exists():
        bot_health_check(bot_id=bot_id)


@shared_task(acks_late=True)
def bots_health_check_all() -> int:
    """Queue one health check per active bot of every open competition; returns how many were queued."""
    bot_ids = list(
        Bot.objects.exclude(status=Bot.Status.DISABLED)
        .exclude(competition__phase__in=[Competition.Phase.DRAFT, Competition.Phase.CLOSED])
        .values_list("id", flat=True)
    )
    for bot_id in bot_ids:
        bot_health_check_task.delay(bot_id)
    return len(bot_ids)
