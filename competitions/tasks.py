"""Celery tasks for bots: thin wrappers that take ids and call competitions.health."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from competitions.health import bot_health_check
from competitions.models import Bot, BotVersion, Competition

# A version this young had its first check just now: the one queued at registration or endpoint change.
NEW_VERSION_AGE = timedelta(minutes=1)


@shared_task(acks_late=True)
def bot_health_check_task(bot_id: int) -> None:
    """Probe one bot and record the outcome; a bot deleted meanwhile is skipped.

    The first check of a new version runs before the team could install the secret it only sees in the response
    to its registration; if it fails, checks follow after BOT_FIRST_CHECK_RETRY_SECONDS (``bot_health_recheck_task``)
    instead of leaving the bot pending until beat's next round.
    """
    if Bot.objects.filter(id=bot_id).exists() and not bot_health_check(bot_id=bot_id).ok:
        _queue_follow_up_checks(bot_id)


def _queue_follow_up_checks(bot_id: int) -> None:
    # Eager Celery (the embedded default) would run them at once, uselessly: there the team presses "Run a health
    # check now" once its bot is ready.
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    bot = Bot.objects.filter(id=bot_id).values("version").first()
    if bot is None:
        return
    fresh = BotVersion.objects.filter(
        bot_id=bot_id, number=bot["version"], created_at__gte=timezone.now() - NEW_VERSION_AGE
    ).exists()
    if fresh:
        for delay in settings.BOT_FIRST_CHECK_RETRY_SECONDS:
            bot_health_recheck_task.apply_async((bot_id, bot["version"]), countdown=delay)


@shared_task(acks_late=True)
def bot_health_recheck_task(bot_id: int, version: int) -> None:
    """A follow-up check soon after a registration or endpoint change, while that version is not live yet.

    The first check runs at once, before the team could install the secret it only sees in the response;
    these give a verifying bot its chance within minutes instead of at beat's next round.
    """
    not_live = Bot.objects.filter(id=bot_id, version=version).exclude(
        status__in=[Bot.Status.VERIFIED, Bot.Status.DISABLED]
    )
    if not_live.exists():
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
