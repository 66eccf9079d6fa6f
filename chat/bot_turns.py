"""The bot's side of a chat, run as asyncio tasks in the ASGI process.

A turn is a task of its own, not of a consumer, so it finishes (reply saved, then broadcast) even when the
evaluator's socket drops. The turn claim on the conversation row makes it run once per user message, whichever
process or socket triggered it.
"""

import asyncio
import logging
import time

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError

from chat import services
from chat.db import chat_database
from chat.events import conversation_group, events_send
from chat.pacing import PacingSettings, bot_reply_delay_seconds

logger = logging.getLogger(__name__)

TYPING_EVERY_SECONDS = 2.0
CLAIM_RETRY_SECONDS = 0.5
_running: set[asyncio.Task] = set()


def pacing_from_settings() -> PacingSettings:
    return PacingSettings(
        read_ms_per_char=settings.CHAT_BOT_READ_MS_PER_CHAR,
        type_ms_per_char=settings.CHAT_BOT_TYPE_MS_PER_CHAR,
        min_ms=settings.CHAT_BOT_DELAY_MIN_MS,
        max_ms=settings.CHAT_BOT_DELAY_MAX_MS,
        jitter=settings.CHAT_BOT_DELAY_JITTER,
    )


def bot_turn_schedule(conversation_id: int) -> asyncio.Task:
    """Start the bot's turns for a chat in the background; a no-op if no turn is due or one is in flight."""
    task = asyncio.get_running_loop().create_task(bot_turns_run(conversation_id))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


async def bot_turns_wait_all() -> None:
    """Wait for every running bot turn (tests and graceful shutdown)."""
    while _running:
        await asyncio.gather(*list(_running), return_exceptions=True)


async def _claim(conversation_id: int) -> services.BotTurn | None:
    """The turn claim, tried twice: after a database error (a lost connection, a failover) the evaluator would
    otherwise wait for a reply that only their next message triggers. The claim is one transaction, so a failed
    one claimed nothing and trying again is safe."""
    claim = chat_database(services.bot_turn_claim)
    try:
        return await claim(conversation_id=conversation_id)
    except DatabaseError:
        logger.warning("claiming a bot turn failed in conversation %s; trying again", conversation_id, exc_info=True)
        await asyncio.sleep(CLAIM_RETRY_SECONDS)
        return await claim(conversation_id=conversation_id)


async def bot_turns_run(conversation_id: int) -> None:
    """Answer every due turn; new user messages that arrive during a turn are answered by the next loop."""
    while True:
        try:
            turn = await _claim(conversation_id)
        except Exception:
            # Nothing was claimed (the claim is one transaction), so there is nothing to release; the next user
            # message or reconnect triggers the turn again.
            logger.exception("claiming a bot turn failed in conversation %s", conversation_id)
            return
        if turn is None:
            return
        try:
            done = await _play_turn(turn)
        except Exception:
            logger.exception("bot turn crashed in conversation %s", conversation_id)
            await _release(conversation_id)
            return
        if not done:
            return


async def _release(conversation_id: int) -> None:
    try:
        await chat_database(services.bot_turn_release)(conversation_id=conversation_id)
    except Exception:
        # The claim then goes stale (bot_turn_stale_after) and the next trigger takes it over.
        logger.exception("releasing the bot turn failed in conversation %s", conversation_id)


async def _call_with_retry(turn: services.BotTurn):
    from competitions.bot_client import BotTarget, build_turn_payload, call_bot
    from competitions.health import bot_call_record
    from competitions.models import BotCall

    target = BotTarget(
        bot_id=turn.bot_id,
        endpoint_url=turn.endpoint_url,
        signing_secret=turn.signing_secret,
        previous_signing_secret=turn.previous_signing_secret,
    )
    payload = build_turn_payload(
        conversation_id=turn.bot_conversation_id,
        language=turn.language,
        competition=turn.competition_slug,
        messages=turn.history,
    )
    result = None
    for _attempt in range(2):
        result = await call_bot(target, payload)
        await chat_database(bot_call_record)(bot_id=turn.bot_id, purpose=BotCall.Purpose.TURN, result=result)
        if result.ok and (result.reply or "").strip():
            return result
    return None


async def _play_turn(turn: services.BotTurn) -> bool:
    started = time.monotonic()
    result = await _call_with_retry(turn)
    if result is None:
        await chat_database(services.bot_turn_fail)(conversation_id=turn.conversation_id)
        return False
    delay = bot_reply_delay_seconds(
        prompt=turn.prompt,
        reply=result.reply,
        already_elapsed_s=time.monotonic() - started,
        pacing=pacing_from_settings(),
    )
    await _type_for(turn.conversation_id, delay)
    posted = await chat_database(services.bot_reply_post)(turn=turn, text=result.reply, latency_ms=result.latency_ms)
    if posted is not None:
        await events_send(turn.conversation_id, posted.events)
    return posted is not None and not posted.ended_reason


async def _type_for(conversation_id: int, seconds: float) -> None:
    """Show the typing indicator while the human-like delay runs."""
    layer = get_channel_layer()
    deadline = time.monotonic() + seconds
    while True:
        await layer.group_send(conversation_group(conversation_id), {"type": "chat.typing", "side": "b"})
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        await asyncio.sleep(min(TYPING_EVERY_SECONDS, remaining))
