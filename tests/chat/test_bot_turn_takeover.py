"""Bot turns outlive their process: heartbeats, the sweep that takes over dead claims, the hand-over at shutdown,
and a reply kept through a lost database connection."""

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError
from django.utils import timezone

from chat import bot_turns, services
from chat.bot_turns import bot_turn_schedule, bot_turns_hand_over, bot_turns_sweep, bot_turns_wait_all
from chat.models import Conversation, Message
from tests.factories import BotFactory, CompetitionFactory, ConversationFactory, MessageFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_chat_cleanup")]


@database_sync_to_async
def chat_with_unanswered_message(url: str, *, claim_age_s: float | None = None) -> Conversation:
    """A bot chat whose user message waits for an answer; with ``claim_age_s``, claimed by a process whose last
    heartbeat was that long ago."""
    competition = CompetitionFactory()
    conversation = ConversationFactory(
        competition=competition, bot=BotFactory(competition=competition, endpoint_url=url), evaluator_a=UserFactory()
    )
    MessageFactory(conversation=conversation, seq=1, side="a", author=conversation.evaluator_a, text="anyone there?")
    conversation.last_seq = 1
    if claim_age_s is not None:
        conversation.bot_turn_started_at = timezone.now() - timedelta(seconds=claim_age_s + 30)
        conversation.bot_turn_heartbeat_at = timezone.now() - timedelta(seconds=claim_age_s)
    conversation.save()
    return conversation


@database_sync_to_async
def replies(conversation) -> list[str]:
    return list(Message.objects.filter(conversation=conversation, side="b").values_list("text", flat=True))


@database_sync_to_async
def claim_of(conversation):
    return Conversation.objects.values_list("bot_turn_started_at", flat=True).get(pk=conversation.pk)


async def test_the_sweep_answers_a_turn_whose_process_stopped_beating(localbot, settings):
    settings.CHAT_BOT_TURN_LEASE_SECONDS = 4.0
    orphan = await chat_with_unanswered_message(localbot.url("ok"), claim_age_s=5)
    alive = await chat_with_unanswered_message(localbot.url("ok"), claim_age_s=1)

    started = await bot_turns_sweep()
    await bot_turns_wait_all()

    assert started == 1
    assert await replies(orphan) == ["echo: anyone there?"]
    assert await replies(alive) == []  # its process is alive and answers it


async def test_the_sweep_answers_a_turn_nobody_claimed(localbot):
    unclaimed = await chat_with_unanswered_message(localbot.url("ok"))
    await bot_turns_sweep()
    await bot_turns_wait_all()
    assert await replies(unclaimed) == ["echo: anyone there?"]
    assert await bot_turns_sweep() == 0  # answered: nothing left to take over


async def test_a_running_turn_keeps_its_claim_alive(localbot, settings):
    settings.CHAT_BOT_TURN_HEARTBEAT_SECONDS = 0.05
    settings.CHAT_BOT_TURN_LEASE_SECONDS = 0.3
    localbot.hang_seconds = 1.0
    settings.BOT_READ_TIMEOUT = settings.BOT_TOTAL_TIMEOUT = 3.0
    chat = await chat_with_unanswered_message(localbot.url("hang"))
    bot_turn_schedule(chat.pk)
    await asyncio.sleep(0.7)  # past the lease: only the heartbeat keeps the claim

    assert await bot_turns_sweep() == 0
    await bot_turns_wait_all()
    assert len(await replies(chat)) == 1
    assert len(localbot.payloads) == 1


async def test_a_reply_is_not_saved_once_another_process_took_the_turn_over(localbot):
    chat = await chat_with_unanswered_message(localbot.url("ok"))
    first = await database_sync_to_async(services.bot_turn_claim)(conversation_id=chat.pk)
    await database_sync_to_async(Conversation.objects.filter(pk=chat.pk).update)(
        bot_turn_heartbeat_at=timezone.now() - timedelta(minutes=1)
    )
    second = await database_sync_to_async(services.bot_turn_claim)(conversation_id=chat.pk)

    late = await database_sync_to_async(services.bot_reply_post)(turn=first, text="late", latency_ms=1.0)
    taken = await database_sync_to_async(services.bot_reply_post)(turn=second, text="taken over", latency_ms=1.0)

    assert late is None and taken is not None
    assert await replies(chat) == ["taken over"]


async def test_shutdown_hands_running_turns_over_at_once(localbot, settings):
    localbot.hang_seconds = 1.0
    settings.BOT_READ_TIMEOUT = settings.BOT_TOTAL_TIMEOUT = 3.0
    chat = await chat_with_unanswered_message(localbot.url("hang"))
    bot_turn_schedule(chat.pk)
    for _ in range(100):
        if await claim_of(chat) is not None:
            break
        await asyncio.sleep(0.01)

    assert await bot_turns_hand_over() == 1
    assert await claim_of(chat) is None  # another process's sweep takes it now, not after the lease
    assert await replies(chat) == []


async def test_a_lost_connection_while_saving_the_reply_does_not_throw_it_away(localbot, monkeypatch):
    monkeypatch.setattr(bot_turns, "POST_RETRY_SECONDS", (0.01,))
    real_post = services.bot_reply_post
    failures = []

    def post_failing_once(**kwargs):
        if not failures:
            failures.append(1)
            raise OperationalError("terminating connection due to administrator command")
        return real_post(**kwargs)

    monkeypatch.setattr(services, "bot_reply_post", post_failing_once)
    chat = await chat_with_unanswered_message(localbot.url("ok"))
    bot_turn_schedule(chat.pk)
    await bot_turns_wait_all()

    assert failures == [1]
    assert await replies(chat) == ["echo: anyone there?"]
    assert len(localbot.payloads) == 1  # the reply it had, not a second call


async def test_a_turn_that_keeps_crashing_ends_the_chat_instead_of_calling_the_bot_forever(localbot, monkeypatch):
    def unsaveable(**kwargs):
        raise ValueError("A string literal cannot contain NUL (0x00) characters.")

    monkeypatch.setattr(services, "bot_reply_post", unsaveable)
    chat = await chat_with_unanswered_message(localbot.url("ok"))
    for _ in range(5):
        await bot_turns_sweep()
        await bot_turns_wait_all()

    status = await database_sync_to_async(Conversation.objects.values_list("status", flat=True).get)(pk=chat.pk)
    assert status == Conversation.Status.BOT_FAILED
    assert len(localbot.payloads) == 3


async def test_handing_over_at_shutdown_finishes_recording_the_bot_calls_already_made():
    """The call has happened: its record (the team's health page) is kept, not cancelled with the turns."""
    recorded = []

    async def record():
        await asyncio.sleep(0.05)
        recorded.append("call")

    bot_turns._in_background(record())
    await bot_turns.bot_turns_hand_over()

    assert recorded == ["call"]
