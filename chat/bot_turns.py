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
import random
import time
from datetime import datetime

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from chat import selectors, services
from chat.db import chat_database
from chat.events import conversation_group, events_send
from chat.presence import CADENCE_MIN_INTERVAL_S, SAVE_LATENCY, PresenceProfile, TypingCadence
from hulic.log_throttle import ThrottledLog

logger = logging.getLogger(__name__)
quiet_log = ThrottledLog(logger)

CLAIM_RETRY_SECONDS = 0.5
# Saving a reply is tried again after a lost connection (a Postgres restart, a failover) rather than thrown away.
POST_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 4.0)
READ_FROM_TRIGGER_S = 2.0
PROFILE_TTL_S = 10.0
_profiles: dict[tuple[int, float], tuple[float, PresenceProfile]] = {}
# One generator for every turn's timing draws: seeding a new one per turn read the system's entropy every time.
_timing_rng = random.Random()
_running: set[asyncio.Task] = set()
# Bot calls being recorded off the turn's path: never cancelled, since the call they record has already happened.
_recording: set[asyncio.Task] = set()
RECORDING_DRAIN_SECONDS = 5.0
# Calls made and not yet recorded, per bot in the order made, with when each was made: recorded in batches (one
# row lock and two statements per bot a batch, not three per call), CALL_RECORD_BATCH_SECONDS after the first.
_unrecorded: dict[int, list[tuple]] = {}
_recorder: asyncio.Task | None = None
CALL_RECORD_BATCH_SECONDS = 0.25
CALL_RECORD_RETRY_SECONDS = (0.5, 1.0, 2.0)
_claims: dict[int, datetime] = {}  # conversation id -> claim token of the turns this process runs
_heartbeat: asyncio.Task | None = None
_crashes: dict[int, int] = {}  # conversation id -> crashed turns in this process
CRASHES_BEFORE_FAILING = 3


def bot_turn_schedule(conversation_id: int) -> asyncio.Task:
    """Start the bot's turns for a chat in the background; a no-op if no turn is due or one is in flight."""
    task = asyncio.get_running_loop().create_task(bot_turns_run(conversation_id, triggered_at=time.time()))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


async def bot_turns_wait_all() -> None:
    """Wait for every running bot turn (tests and graceful shutdown)."""
    while _running or _recording:
        await asyncio.gather(*list(_running | _recording), return_exceptions=True)
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


async def bot_turns_run(conversation_id: int, *, triggered_at: float | None = None) -> None:
    """Answer every due turn; new user messages that arrive during a turn are answered by the next loop (saving
    the reply says whether there were any, so a turn claims once when there were none)."""
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
            again = await _play_turn(turn, triggered_at=triggered_at)
        except Exception:
            logger.exception("bot turn crashed in conversation %s", conversation_id)
            await _after_crash(conversation_id, turn.claimed_at)
            return
        finally:
            _claims.pop(conversation_id, None)
        _crashes.pop(conversation_id, None)
        if not again:
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
    if _recording:
        await asyncio.wait(list(_recording), timeout=RECORDING_DRAIN_SECONDS)
    await _heartbeat_stop()
    return len(claims)


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


def _in_background(work) -> asyncio.Task:
    """Off the turn's path: recording a call locks the bot's row, which all its chats share, and whatever the
    turn waits for before its first `typing` shows as a slower reader than the humans it plays."""
    task = asyncio.get_running_loop().create_task(work)
    _recording.add(task)
    task.add_done_callback(_recording.discard)
    task.add_done_callback(_log_failure)
    return task


def _call_record_later(bot_id: int, result) -> None:
    """Queue the call's record; one background task records whatever queued up (awaited at shutdown like any)."""
    global _recorder
    _unrecorded.setdefault(bot_id, []).append((result, timezone.now()))
    loop = asyncio.get_running_loop()
    if _recorder is None or _recorder.done() or _recorder.get_loop() is not loop:
        _recorder = _in_background(_calls_record())


async def _calls_record() -> None:
    while _unrecorded:
        await asyncio.sleep(CALL_RECORD_BATCH_SECONDS)
        batch = dict(_unrecorded)
        _unrecorded.clear()
        for bot_id, calls in batch.items():
            await _bot_calls_record(bot_id, calls)


async def _bot_calls_record(bot_id: int, calls: list[tuple]) -> None:
    """Tried again while the database is unreachable: the calls have happened, and their record is the team's."""
    from competitions.health import bot_calls_record
    from competitions.models import BotCall

    record = chat_database(bot_calls_record)
    for pause in (*CALL_RECORD_RETRY_SECONDS, None):
        try:
            await record(bot_id=bot_id, purpose=BotCall.Purpose.TURN, calls=calls)
            return
        except DatabaseError as error:
            if pause is None:
                # Logged, not raised: the other bots' calls of the batch are still recorded.
                quiet_log.warning("bot-call-record", "recording %s bot calls failed", len(calls), error=error)
                return
            quiet_log.warning("bot-call-record-retry", "recording bot calls failed; trying again", error=error)
            await asyncio.sleep(pause)


def _log_failure(task: asyncio.Task) -> None:
    # The record is for the team's health page; the reply matters more to the evaluator waiting for it.
    if not task.cancelled() and task.exception() is not None:
        quiet_log.warning("bot-call-record", "recording a bot call failed", error=task.exception())


async def _call_with_retry(turn: services.BotTurn):
    from competitions.bot_client import BotTarget, build_turn_payload, call_bot

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
        max_chars=turn.max_chars,
        mode=turn.mode,
    )
    result = None
    for _attempt in range(2):
        result = await call_bot(target, payload)
        if result.ok and len(result.reply) > turn.max_chars:
            result = _over_chat_limit(result, turn.max_chars)
        _call_record_later(turn.bot_id, result)
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
    """Call the bot, then play a human partner's turn of that length; post the reply, or leave like a person.
    Returns whether the evaluator wrote again meanwhile (another turn is due)."""
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
        rng=_timing_rng,
    )
    typing = _Typing(turn.conversation_id)
    if result is None:
        await player.until_gone()
        await chat_database(services.bot_turn_fail)(conversation_id=turn.conversation_id)
        return False
    await player.until_sent(len(result.reply), typing.signal)
    saving = time.monotonic()
    posted = await _post_reply(turn, result)
    SAVE_LATENCY.note(bot=True, seconds=time.monotonic() - saving)
    if posted is not None:
        try:
            await events_send(turn.conversation_id, posted.events)
        except Exception as error:
            # Saved: the sockets fetch it when the channel layer is back (docs/chat-protocol.md, "Gaps").
            quiet_log.warning("bot-reply-broadcast", "broadcasting a bot reply failed", error=error)
    return posted is not None and posted.bot_turn_due


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


class _Typing:
    """The bot's `typing` frames, through the same cadence rule as a human's (chat.consumers)."""

    def __init__(self, conversation_id: int) -> None:
        self.group = conversation_group(conversation_id)
        self.cadence = TypingCadence(CADENCE_MIN_INTERVAL_S * settings.CHAT_PRESENCE_TIME_SCALE)

    async def signal(self, *, planned_at: float) -> None:
        """``planned_at`` (monotonic) is when the played human browser sent it: the rule judges the source's
        rhythm, as it judges a human's frames by their arrival, not this task's own lateness under load."""
        if not self.cadence.admit(planned_at):
            return
        try:
            await get_channel_layer().group_send(self.group, {"type": "chat.typing", "side": "b"})
        except Exception as error:
            # No indicator while the channel layer is down; the reply itself is saved and fetched later.
            quiet_log.warning("bot-typing", "sending the typing indicator failed", error=error)


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
