"""The bot's side of a chat, run as asyncio tasks in the ASGI process.

A turn is a task of its own, not of a consumer, so it finishes (reply saved, then broadcast) even when the
evaluator's socket drops. The turn claim on the conversation row makes it run once per user message, whichever
process or socket triggered it.

Turns do not die with their process. The process renews the claims of the turns it runs every
CHAT_BOT_TURN_HEARTBEAT_SECONDS (one UPDATE for all of them); every web process sweeps every
CHAT_BOT_TURN_SWEEP_SECONDS for bot chats with a turn due and no live claim (its process was killed, or the turn
crashed) and runs them, so an orphaned turn is answered about CHAT_BOT_TURN_LEASE_SECONDS after its process died,
paced like any reply (the time the evaluator already waited counts towards the human-like delay). At shutdown
(SIGTERM) a process hands its turns over: it cancels them and releases their claims, which the other processes'
sweeps take at once (hulic/asgi.py runs the sweep and the hand-over from the ASGI lifespan).
"""

import asyncio
import contextlib
import logging
import time
from datetime import datetime

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError

from chat import services
from chat.db import chat_database
from chat.events import conversation_group, events_send
from chat.pacing import PacingSettings, bot_reply_delay_seconds
from hulic.log_throttle import ThrottledLog

logger = logging.getLogger(__name__)
quiet_log = ThrottledLog(logger)

TYPING_EVERY_SECONDS = 2.0
CLAIM_RETRY_SECONDS = 0.5
# Saving a reply is tried again after a lost connection (a Postgres restart, a failover) rather than thrown away.
POST_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 4.0)
_running: set[asyncio.Task] = set()
_claims: dict[int, datetime] = {}  # conversation id -> claim token of the turns this process runs
_heartbeat: asyncio.Task | None = None
_crashes: dict[int, int] = {}  # conversation id -> crashed turns in this process
CRASHES_BEFORE_FAILING = 3


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
    await _heartbeat_stop()


async def _heartbeat_stop() -> None:
    if _heartbeat is not None and not _heartbeat.done() and _heartbeat.get_loop() is asyncio.get_running_loop():
        _heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await _heartbeat


async def _claim(conversation_id: int) -> services.BotTurn | None:
    """The turn claim, tried twice: after a database error (a lost connection, a failover) the evaluator would
    otherwise wait for a reply that only their next message triggers. The claim is one transaction, so a failed
    one claimed nothing and trying again is safe."""
    claim = chat_database(services.bot_turn_claim)
    try:
        return await claim(conversation_id=conversation_id)
    except DatabaseError as error:
        quiet_log.warning("bot-turn-claim-retry", "claiming a bot turn failed; trying again", error=error)
        await asyncio.sleep(CLAIM_RETRY_SECONDS)
        return await claim(conversation_id=conversation_id)


async def bot_turns_run(conversation_id: int) -> None:
    """Answer every due turn; new user messages that arrive during a turn are answered by the next loop."""
    while True:
        try:
            turn = await _claim(conversation_id)
        except Exception as error:
            # Nothing was claimed (the claim is one transaction), so there is nothing to release; a sweep, the next
            # user message or a reconnect triggers the turn again.
            quiet_log.warning(
                "bot-turn-claim", "claiming a bot turn failed in conversation %s", conversation_id, error=error
            )
            return
        if turn is None:
            return
        _claims[conversation_id] = turn.claimed_at
        _heartbeat_ensure()
        try:
            done = await _play_turn(turn)
        except Exception:
            logger.exception("bot turn crashed in conversation %s", conversation_id)
            await _after_crash(conversation_id, turn.claimed_at)
            return
        finally:
            _claims.pop(conversation_id, None)
        _crashes.pop(conversation_id, None)
        if not done:
            return


async def _after_crash(conversation_id: int, claimed_at: datetime | None) -> None:
    """Release the claim so the sweep retries the turn; a turn that keeps crashing (a reply that cannot be saved)
    would otherwise call the bot every sweep until the deadline, so its chat ends as the bot's failure instead."""
    _crashes[conversation_id] = _crashes.get(conversation_id, 0) + 1
    if _crashes[conversation_id] < CRASHES_BEFORE_FAILING:
        await _release(conversation_id, claimed_at)
        return
    _crashes.pop(conversation_id, None)
    try:
        await chat_database(services.bot_turn_fail)(conversation_id=conversation_id)
    except Exception as error:
        quiet_log.warning("bot-turn-fail", "ending a chat whose bot turn keeps crashing failed", error=error)


async def _release(conversation_id: int, claimed_at: datetime | None) -> None:
    try:
        await chat_database(services.bot_turn_release)(conversation_id=conversation_id, claimed_at=claimed_at)
    except Exception as error:
        # The claim then goes stale (CHAT_BOT_TURN_LEASE_SECONDS) and a sweep takes it over.
        quiet_log.warning(
            "bot-turn-release", "releasing the bot turn failed in conversation %s", conversation_id, error=error
        )


def _heartbeat_ensure() -> None:
    global _heartbeat
    loop = asyncio.get_running_loop()
    if _heartbeat is None or _heartbeat.done() or _heartbeat.get_loop() is not loop:
        _heartbeat = loop.create_task(_heartbeat_run())


async def _heartbeat_run() -> None:
    """Renew this process's claims while it runs turns; ends when it runs none."""
    while _claims:
        await asyncio.sleep(settings.CHAT_BOT_TURN_HEARTBEAT_SECONDS)
        if not _claims:
            return
        try:
            await chat_database(services.bot_turns_heartbeat)(conversation_ids=list(_claims))
        except Exception as error:
            quiet_log.warning("bot-turn-heartbeat", "renewing the bot turn claims failed", error=error)


async def bot_turns_sweep() -> int:
    """Run the due turns that no live process holds; returns how many were started here."""
    started = 0
    for conversation_id in await chat_database(services.bot_turns_orphaned)():
        if conversation_id not in _claims:
            bot_turn_schedule(conversation_id)
            started += 1
    return started


async def bot_turns_sweep_forever() -> None:
    """Every web process runs this (from the ASGI lifespan), so a turn outlives the process that claimed it."""
    while True:
        try:
            await bot_turns_sweep()
        except Exception as error:
            quiet_log.warning("bot-turn-sweep", "sweeping for orphaned bot turns failed", error=error)
        await asyncio.sleep(settings.CHAT_BOT_TURN_SWEEP_SECONDS)


async def bot_turns_hand_over() -> int:
    """At shutdown: stop this process's turns and release their claims so that another process answers them now
    rather than after the lease. Returns how many turns were handed over."""
    claims = dict(_claims)
    tasks = list(_running)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for conversation_id, claimed_at in claims.items():
        await _release(conversation_id, claimed_at)
    await _heartbeat_stop()
    return len(claims)


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
        mode=turn.mode,
    )
    result = None
    for _attempt in range(2):
        result = await call_bot(target, payload)
        try:
            await chat_database(bot_call_record)(bot_id=turn.bot_id, purpose=BotCall.Purpose.TURN, result=result)
        except DatabaseError as error:
            # The record is for the team's health page; the reply matters more to the evaluator waiting for it.
            quiet_log.warning("bot-call-record", "recording a bot call failed", error=error)
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
        already_elapsed_s=time.monotonic() - started + turn.waited_s,
        pacing=pacing_from_settings(),
    )
    await _type_for(turn.conversation_id, delay)
    posted = await _post_reply(turn, result)
    if posted is not None:
        try:
            await events_send(turn.conversation_id, posted.events)
        except Exception as error:
            # Saved: the sockets fetch it when the channel layer is back (docs/chat-protocol.md, "Gaps").
            quiet_log.warning("bot-reply-broadcast", "broadcasting a bot reply failed", error=error)
    return posted is not None and not posted.ended_reason


async def _post_reply(turn: services.BotTurn, result) -> services.PostedMessage | None:
    """Save the reply, trying again while the database is unreachable (the claim's heartbeat keeps it ours)."""
    post = chat_database(services.bot_reply_post)
    for pause in POST_RETRY_SECONDS:
        try:
            return await post(turn=turn, text=result.reply, latency_ms=result.latency_ms)
        except DatabaseError as error:
            quiet_log.warning("bot-reply-save", "saving a bot reply failed; trying again", error=error)
            await asyncio.sleep(pause)
    return await post(turn=turn, text=result.reply, latency_ms=result.latency_ms)


async def _type_for(conversation_id: int, seconds: float) -> None:
    """Show the typing indicator while the human-like delay runs."""
    layer = get_channel_layer()
    deadline = time.monotonic() + seconds
    while True:
        try:
            await layer.group_send(conversation_group(conversation_id), {"type": "chat.typing", "side": "b"})
        except Exception as error:
            # No indicator while the channel layer is down; the reply itself is saved and fetched later.
            quiet_log.warning("bot-typing", "sending the typing indicator failed", error=error)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        await asyncio.sleep(min(TYPING_EVERY_SECONDS, remaining))
