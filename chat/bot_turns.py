"""The bot's side of a chat, run as asyncio tasks in the ASGI process.

A turn is a task of its own, not of a consumer, so it finishes (reply saved, then broadcast) even when the
evaluator's socket drops. The turn claim on the conversation row makes it run once per user message, whichever
process or socket triggered it.
"""

import asyncio
import logging
import random
import time

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError

from chat import selectors, services
from chat.db import chat_database
from chat.events import conversation_group, events_send
from chat.presence import CADENCE_MIN_INTERVAL_S, SAVE_LATENCY, PresenceProfile, TypingCadence

logger = logging.getLogger(__name__)

CLAIM_RETRY_SECONDS = 0.5
READ_FROM_TRIGGER_S = 2.0
PROFILE_TTL_S = 10.0
_profiles: dict[tuple[int, float], tuple[float, PresenceProfile]] = {}
_running: set[asyncio.Task] = set()


def bot_turn_schedule(conversation_id: int) -> asyncio.Task:
    """Start the bot's turns for a chat in the background; a no-op if no turn is due or one is in flight."""
    task = asyncio.get_running_loop().create_task(bot_turns_run(conversation_id, triggered_at=time.time()))
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


async def bot_turns_run(conversation_id: int, *, triggered_at: float | None = None) -> None:
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
            done = await _play_turn(turn, triggered_at=triggered_at)
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


def _over_chat_limit(result, max_chars: int):
    """A reply longer than the evaluator may write would prove a bot: a failure of its own kind, never delivered."""
    from competitions.bot_client import BotResult, Failure

    detail = f'The "reply" has {len(result.reply)} characters; this chat\'s limit (max_chars) is {max_chars}.'
    return BotResult(
        ok=False,
        reply=None,
        latency_ms=result.latency_ms,
        status_code=result.status_code,
        failure_kind=Failure.OVER_CHAT_LIMIT,
        detail=detail,
    )


def _in_background(work) -> None:
    """Off the turn's path: recording a call locks the bot's row, which all its chats share, and whatever the
    turn waits for before its first `typing` shows as a slower reader than the humans it plays."""
    task = asyncio.get_running_loop().create_task(work)
    _running.add(task)
    task.add_done_callback(_running.discard)
    task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("recording a bot call failed", exc_info=task.exception())


async def _call_with_retry(turn: services.BotTurn):
    from competitions.bot_client import BotTarget, build_turn_payload, call_bot
    from competitions.health import bot_call_record
    from competitions.models import BotCall

    target = BotTarget(bot_id=turn.bot_id, endpoint_url=turn.endpoint_url, signing_secret=turn.signing_secret)
    payload = build_turn_payload(
        conversation_id=turn.bot_conversation_id,
        language=turn.language,
        competition=turn.competition_slug,
        messages=turn.history,
        max_chars=turn.max_chars,
    )
    result = None
    for _attempt in range(2):
        result = await call_bot(target, payload)
        if result.ok and len(result.reply) > turn.max_chars:
            result = _over_chat_limit(result, turn.max_chars)
        _in_background(chat_database(bot_call_record)(bot_id=turn.bot_id, purpose=BotCall.Purpose.TURN, result=result))
        if result.ok and (result.reply or "").strip():
            return result
    return None


async def _profile(competition_id: int) -> PresenceProfile:
    """The competition's recorded timings, read at most every PROFILE_TTL_S per process (a turn waits for it)."""
    scale = settings.CHAT_PRESENCE_TIME_SCALE
    cached = _profiles.get((competition_id, scale))
    if cached is not None and time.monotonic() - cached[0] < PROFILE_TTL_S:
        return cached[1]
    profile = await chat_database(selectors.presence_profile_for)(competition_id=competition_id, scale=scale)
    _profiles[(competition_id, scale)] = (time.monotonic(), profile)
    return profile


def _read_from(turn: services.BotTurn, triggered_at: float | None) -> float:
    """When the bot "saw" what it answers, as a partner's browser would.

    A reply: once the evaluator's message was broadcast, which is when the evaluator's socket scheduled the turn;
    a turn triggered later (a reconnect, the next loop of bot_turns_run) counts from the message itself. An
    opening: from the evaluator's socket opening (which triggers it), as a person's opening counts from their page
    opening (chat.consumers).
    """
    message_at = turn.replying_to_at.timestamp() if turn.replying_to_at else time.time()
    if triggered_at is None:
        return message_at
    if turn.opening or 0 <= triggered_at - message_at < READ_FROM_TRIGGER_S:
        return triggered_at
    return message_at


async def _play_turn(turn: services.BotTurn, *, triggered_at: float | None = None) -> bool:
    """Call the bot, then play a human partner's turn of that length; post the reply, or leave like a person."""
    # Read while the bot thinks: everything before the first `typing` delays it, and a person's does not wait.
    loading = asyncio.get_running_loop().create_task(_profile(turn.competition_id))
    try:
        result = await _call_with_retry(turn)
    finally:
        profile = await loading
    player = PresencePlayer(
        profile=profile,
        started_at=_read_from(turn, triggered_at),
        opening=turn.opening,
        max_s=settings.CHAT_BOT_DELAY_MAX_MS / 1000,
        rng=random.Random(),
    )
    typing = _Typing(turn.conversation_id)
    if result is None:
        await player.until_gone()
        await chat_database(services.bot_turn_fail)(conversation_id=turn.conversation_id)
        return False
    await player.until_sent(len(result.reply), typing.signal)
    saving = time.monotonic()
    posted = await chat_database(services.bot_reply_post)(turn=turn, text=result.reply, latency_ms=result.latency_ms)
    SAVE_LATENCY.note(bot=True, seconds=time.monotonic() - saving)
    if posted is not None:
        await events_send(turn.conversation_id, posted.events)
    return posted is not None and not posted.ended_reason


class _Typing:
    """The bot's `typing` frames, through the same cadence rule as a human's (chat.consumers)."""

    def __init__(self, conversation_id: int) -> None:
        self.group = conversation_group(conversation_id)
        self.cadence = TypingCadence(CADENCE_MIN_INTERVAL_S * settings.CHAT_PRESENCE_TIME_SCALE)

    async def signal(self, *, planned_at: float) -> None:
        """``planned_at`` (monotonic) is when the played human browser sent it: the rule judges the source's
        rhythm, as it judges a human's frames by their arrival, not this task's own lateness under load."""
        if self.cadence.admit(planned_at):
            await get_channel_layer().group_send(self.group, {"type": "chat.typing", "side": "b"})


class PresencePlayer:
    """Plays one turn of a bot on the wall clock, from the moment it "read" what it answers.

    Nothing shows while the bot's answer is unknown (a person who goes quiet and leaves never types, so neither
    does a bot that is about to fail). Once the reply's length is known, a recorded human turn of about that
    length is played: its reading delay to the first ``typing`` (longer if the bot took longer: a slow reader),
    its intervals between ``typing`` frames, and its gap to the message. All of it within ``max_s``.
    """

    def __init__(self, *, profile: PresenceProfile, started_at: float, opening: bool, max_s: float, rng) -> None:
        self.profile, self.started_at, self.max_s, self.rng = profile, started_at, max_s, rng
        self.read_s = profile.read_s(opening=opening, rng=rng)

    async def _sleep_until(self, offset_s: float) -> None:
        await asyncio.sleep(max(0.0, self.started_at + offset_s - time.time()))

    async def until_sent(self, chars: int, signal) -> None:
        plan = self.profile.turn_for(chars=chars, rng=self.rng)
        read = max(self.read_s, time.time() - self.started_at)
        offsets = [read]
        for interval in plan.intervals_s:
            offsets.append(offsets[-1] + interval)
        send_at = offsets[-1] + plan.gap_s
        if send_at > self.max_s:
            shrink = self.max_s / send_at
            offsets, send_at = [o * shrink for o in offsets], self.max_s
        for offset in offsets:
            await self._sleep_until(offset)
            await signal(planned_at=time.monotonic() - (time.time() - (self.started_at + offset)))
        await self._sleep_until(max(offsets[-1], send_at - SAVE_LATENCY.bot_head_start_s))

    async def until_gone(self) -> None:
        """A failed bot leaves when a person who gives up would: a recorded time after the message it ignored."""
        await self._sleep_until(min(self.profile.leave_s(self.rng), self.max_s))
