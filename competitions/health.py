"""Bot health: record every call's outcome and move a bot between pending, verified and failing.

A bot goes live (VERIFIED) only after a passing health check; consecutive failures (health or chat turns) past
settings.BOT_FAILURES_BEFORE_FAILING take a verified bot out of matchmaking (FAILING). DISABLED is the organiser's or
team's decision and is never changed here.
"""

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from competitions.bot_client import BotResult, BotTarget, build_health_payload, call_bot_sync
from competitions.models import Bot, BotCall

MAX_DETAIL_CHARS = 2000


def bot_call_record(*, bot_id: int, purpose: str, result: BotResult) -> BotCall:
    return bot_calls_record(bot_id=bot_id, purpose=purpose, calls=[(result, timezone.now())])[0]


@transaction.atomic
def bot_calls_record(*, bot_id: int, purpose: str, calls: Sequence[tuple[BotResult, datetime]]) -> list[BotCall]:
    """Record calls to one bot, each with the time it was made, in the order made: one row lock, one INSERT and one
    UPDATE for all of them (a busy chat process records its turns' calls in batches); the bot ends in the state
    that recording them one by one would leave."""
    # The row lock serialises concurrent recorders of one bot, so no failure is lost from the counter.
    bot = Bot.objects.select_for_update().get(id=bot_id)
    rows = []
    for result, made_at in calls:
        rows.append(
            BotCall(
                bot=bot,
                purpose=purpose,
                ok=result.ok,
                latency_ms=result.latency_ms,
                status_code=result.status_code,
                failure_kind=result.failure_kind,
                detail=result.detail[:MAX_DETAIL_CHARS],
                created_at=made_at,
            )
        )
        _bot_note_call(bot, purpose=purpose, result=result, at=made_at)
    BotCall.objects.bulk_create(rows)
    bot.save(
        update_fields=[
            "status",
            "last_checked_at",
            "last_latency_ms",
            "consecutive_failures",
            "last_failure_reason",
            "updated_at",
        ]
    )
    return rows


def _bot_note_call(bot: Bot, *, purpose: str, result: BotResult, at: datetime) -> None:
    bot.last_checked_at = at
    bot.last_latency_ms = result.latency_ms
    if result.ok:
        bot.consecutive_failures = 0
        bot.last_failure_reason = ""
        if purpose == BotCall.Purpose.HEALTH and bot.status in (Bot.Status.PENDING, Bot.Status.FAILING):
            bot.status = Bot.Status.VERIFIED
    else:
        bot.consecutive_failures += 1
        label = dict(BotCall.Failure.choices).get(result.failure_kind, "Failure")
        bot.last_failure_reason = f"{label}: {result.detail}"[:MAX_DETAIL_CHARS]
        if bot.status == Bot.Status.VERIFIED and bot.consecutive_failures >= settings.BOT_FAILURES_BEFORE_FAILING:
            bot.status = Bot.Status.FAILING


def bot_health_check(*, bot_id: int, **call_options) -> BotCall:
    """Send the health probe (outside any transaction: it can take seconds) and record the outcome.

    ``call_options`` pass through to call_bot (a resolver or allowed networks, for tests and tools).
    """
    bot = Bot.objects.select_related("competition").get(id=bot_id)
    languages = bot.competition.languages or ["en"]
    target = BotTarget(
        bot_id=bot.id,
        endpoint_url=bot.endpoint_url,
        signing_secret=bot.signing_secret,
        previous_signing_secret=bot.previous_secret_in_grace(),
    )
    payload = build_health_payload(language=languages[0], competition=bot.competition.slug)
    result = call_bot_sync(target, payload, **call_options)
    return bot_call_record(bot_id=bot.id, purpose=BotCall.Purpose.HEALTH, result=result)
