"""The chat websocket on the real ASGI stack (routing, origin check, session auth)."""

import asyncio
import threading
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from chat import db, services
from chat.models import Conversation, Message, PartnerKind
from tests.chat.conftest import connect, drain, receive_until
from tests.factories import CompetitionFactory, ConversationFactory, EvaluatorFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_chat_cleanup")]


@database_sync_to_async
def human_chat(**competition_fields):
    competition = CompetitionFactory(**competition_fields)
    return ConversationFactory(
        competition=competition,
        partner_kind=PartnerKind.HUMAN,
        bot=None,
        evaluator_a=UserFactory(),
        evaluator_b=UserFactory(),
        alias_a="Maple",
        alias_b="River",
    )


@database_sync_to_async
def refresh(conversation):
    conversation.refresh_from_db()
    return conversation


async def send_message(communicator, text, client_msg_id):
    await communicator.send_json_to({"type": "message", "client_msg_id": client_msg_id, "text": text})


async def test_messages_are_relayed_with_increasing_sequence_numbers():
    chat = await human_chat()
    alice, hello_a = await connect(chat.evaluator_a, chat)
    bob, hello_b = await connect(chat.evaluator_b, chat)
    assert hello_a["partner"] == "River" and hello_b["partner"] == "Maple"
    assert "you" not in hello_a and "you" not in hello_b  # a side label would tell who the second evaluator is

    await send_message(alice, "hi bob", "m1")
    ack, _ = await receive_until(alice, "ack")
    own, _ = await receive_until(alice, "message")
    received, _ = await receive_until(bob, "message")
    await send_message(bob, "hi alice", "m2")
    reply, _ = await receive_until(alice, "message")

    assert ack == {"type": "ack", "client_msg_id": "m1", "seq": 1}
    assert own["from"] == "me" and own["client_msg_id"] == "m1"
    assert received == {"type": "message", "seq": 1, "from": "partner", "text": "hi bob", "sent_at": own["sent_at"]}
    assert (reply["seq"], reply["from"], reply["text"]) == (2, "partner", "hi alice")
    assert (await refresh(chat)).last_seq == 2
    await alice.disconnect()
    await bob.disconnect()


async def test_reconnect_with_last_seq_receives_exactly_the_missed_messages():
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    bob, _ = await connect(chat.evaluator_b, chat)
    await send_message(alice, "one", "a1")
    await receive_until(alice, "ack")
    await receive_until(bob, "message")
    await bob.disconnect()

    for index, text in enumerate(["two", "three", "four"]):
        await send_message(alice, text, f"a{index + 2}")
        await receive_until(alice, "ack")

    bob, hello = await connect(chat.evaluator_b, chat, last_seq=1)
    missed = [(await receive_until(bob, "message"))[0] for _ in range(3)]
    assert hello["last_seq"] == 4
    assert [(m["seq"], m["text"]) for m in missed] == [(2, "two"), (3, "three"), (4, "four")]
    assert await bob.receive_nothing(timeout=0.3)

    await send_message(bob, "back", "b1")
    await receive_until(bob, "ack")
    await receive_until(bob, "message")
    await bob.send_json_to({"type": "resume", "last_seq": 3})
    resumed = [(await receive_until(bob, "message"))[0] for _ in range(2)]
    assert [m["seq"] for m in resumed] == [4, 5]
    assert await bob.receive_nothing(timeout=0.3)
    await alice.disconnect()
    await bob.disconnect()


async def test_resending_a_client_msg_id_creates_one_message():
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    bob, _ = await connect(chat.evaluator_b, chat)
    await send_message(alice, "only once", "same-id")
    first_ack, _ = await receive_until(alice, "ack")
    await send_message(alice, "only once", "same-id")
    second_ack, _ = await receive_until(alice, "ack")
    bob_first, _ = await receive_until(bob, "message")
    no_duplicate = await bob.receive_nothing(timeout=0.4)

    assert first_ack["seq"] == second_ack["seq"] == 1
    assert bob_first["seq"] == 1 and no_duplicate
    assert await database_sync_to_async(Message.objects.filter(conversation=chat).count)() == 1
    await alice.disconnect()
    await bob.disconnect()


async def test_strangers_and_anonymous_users_are_refused():
    chat = await human_chat()
    stranger = await database_sync_to_async(UserFactory)()
    communicator, code = await connect(stranger, chat)
    assert code == 4403
    await communicator.disconnect()


async def test_foreign_origin_is_refused():
    chat = await human_chat()
    communicator, refused = await connect(chat.evaluator_a, chat, origin="http://evil.example")
    assert not isinstance(refused, dict), "a foreign origin must not get a hello frame"
    await communicator.disconnect()


async def test_overlong_empty_and_malformed_messages_are_rejected_without_saving():
    chat = await human_chat(max_message_chars=10)
    alice, _ = await connect(chat.evaluator_a, chat)
    await send_message(alice, "x" * 11, "long")
    too_long, _ = await receive_until(alice, "error")
    await send_message(alice, "   ", "blank")
    empty, _ = await receive_until(alice, "error")
    await alice.send_to(text_data="not json")
    bad, _ = await receive_until(alice, "error")
    await alice.send_json_to({"type": "message", "text": "no id"})
    missing_id, _ = await receive_until(alice, "error")

    assert (too_long["code"], too_long["client_msg_id"]) == ("too_long", "long")
    assert empty["code"] == "empty"
    assert bad["code"] == missing_id["code"] == "bad_frame"
    assert await database_sync_to_async(Message.objects.count)() == 0
    await alice.disconnect()


async def test_frames_over_the_size_cap_close_the_socket(settings):
    settings.CHAT_MAX_FRAME_BYTES = 200
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    await alice.send_to(text_data='{"type": "ping", "pad": "' + "x" * 300 + '"}')
    closed = await alice.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": 1009}
    await alice.disconnect()


async def test_message_rate_limit_per_evaluator(settings):
    settings.CHAT_MESSAGES_PER_10S = 3
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    bob, _ = await connect(chat.evaluator_b, chat)
    codes = []
    for index in range(4):
        await send_message(alice, f"msg {index}", f"r{index}")
        frame, _ = await receive_until(alice, "error") if index == 3 else await receive_until(alice, "ack")
        codes.append(frame.get("code", "ok"))
    await send_message(bob, "bob is not limited", "b1")
    bob_ack, _ = await receive_until(bob, "ack")

    assert codes == ["ok", "ok", "ok", "rate_limited"]
    assert bob_ack["seq"] == 4
    await alice.disconnect()
    await bob.disconnect()


async def test_an_overloaded_server_answers_busy_and_the_resent_message_counts_once(settings):
    """Past CHAT_BUSY_BACKLOG queued database calls a message is refused at once, visibly, and nothing is saved."""
    settings.CHAT_BUSY_BACKLOG = 5
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    release = threading.Event()
    blockers = [db._threads.submit(release.wait) for _ in range(db.DATABASE_THREADS + 10)]
    try:
        await send_message(alice, "hello", "m1")
        busy, _ = await receive_until(alice, "error")
        saved_while_busy = await database_sync_to_async(Message.objects.count)()
    finally:
        release.set()
        await asyncio.gather(*(asyncio.wrap_future(blocker) for blocker in blockers))
    await send_message(alice, "hello", "m1")
    ack, _ = await receive_until(alice, "ack")
    await send_message(alice, "hello", "m1")
    second_ack, _ = await receive_until(alice, "ack")

    assert (busy["code"], busy["client_msg_id"]) == ("busy", "m1")
    assert 500 <= busy["retry_after_ms"] <= 1500
    assert saved_while_busy == 0
    assert ack["seq"] == second_ack["seq"] == 1
    assert await database_sync_to_async(Message.objects.count)() == 1
    await alice.disconnect()


async def test_a_flooding_socket_is_throttled_without_hurting_the_partner():
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    bob, _ = await connect(chat.evaluator_b, chat)
    for _ in range(40):
        await alice.send_json_to({"type": "ping"})
    flood = await drain(alice, timeout=1.0)
    await bob.send_json_to({"type": "ping"})
    bob_answer = await bob.receive_json_from(timeout=2)

    assert sum(f["type"] == "pong" for f in flood) <= 25
    assert any(f.get("code") == "rate_limited" for f in flood)
    assert bob_answer == {"type": "pong"}
    await alice.disconnect()
    await bob.disconnect()


async def test_turn_limit_ends_the_chat_for_both_sides():
    chat = await human_chat(max_turns=2)
    alice, _ = await connect(chat.evaluator_a, chat)
    bob, _ = await connect(chat.evaluator_b, chat)
    await send_message(alice, "one", "a1")
    await receive_until(bob, "message")
    await send_message(bob, "two", "b1")
    ended_a, before = await receive_until(alice, "ended")
    ended_b, _ = await receive_until(bob, "ended")
    await send_message(alice, "three", "a2")
    refused, _ = await receive_until(alice, "error")

    assert [f["text"] for f in before if f["type"] == "message"][-1] == "two"
    assert ended_a["reason"] == ended_b["reason"] == "turns"
    assert ended_a["judge_url"] == f"/chat/{chat.public_id}/judge/"
    assert refused["code"] == "chat_ended"
    assert (await refresh(chat)).status == Conversation.Status.ENDED
    await alice.disconnect()
    await bob.disconnect()


async def test_time_limit_ends_the_chat_from_the_socket_timer():
    chat = await human_chat(chat_time_limit_seconds=1)

    @database_sync_to_async
    def shorten():
        Conversation.objects.filter(pk=chat.pk).update(deadline_at=timezone.now() + timedelta(seconds=1))

    await shorten()
    alice, hello = await connect(chat.evaluator_a, chat)
    ended, _ = await receive_until(alice, "ended", timeout=4)
    assert hello["seconds_left"] <= 1
    assert ended["reason"] == "time"
    assert (await refresh(chat)).end_reason == Conversation.EndReason.TIME
    await alice.disconnect()


async def test_leaving_tells_the_partner_they_were_left():
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    bob, _ = await connect(chat.evaluator_b, chat)
    await alice.send_json_to({"type": "leave"})
    mine, _ = await receive_until(alice, "ended")
    theirs, _ = await receive_until(bob, "ended")
    assert (mine["reason"], theirs["reason"]) == ("left", "partner_left")
    chat = await refresh(chat)
    assert (chat.status, chat.end_reason, chat.ended_by) == ("ended", "left", "a")
    await alice.disconnect()
    await bob.disconnect()


async def test_flagged_text_is_masked_for_the_partner_and_kept_for_organizers():
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    bob, _ = await connect(chat.evaluator_b, chat)
    await send_message(alice, "you are a fucking idiot", "rude")
    own, _ = await receive_until(alice, "message")
    seen, _ = await receive_until(bob, "message")
    stored = await database_sync_to_async(Message.objects.get)(conversation=chat)

    assert own["masked"] is True and own["text"] == "you are a fucking idiot"
    assert "fucking" not in seen["text"] and seen["text"] == stored.delivered_text
    assert stored.flagged and stored.text == "you are a fucking idiot" and stored.moderation_labels
    await alice.disconnect()
    await bob.disconnect()


async def test_typing_is_shown_to_the_partner_only():
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    bob, _ = await connect(chat.evaluator_b, chat)
    await alice.send_json_to({"type": "typing"})
    assert await bob.receive_json_from(timeout=2) == {"type": "typing", "from": "partner"}
    assert await alice.receive_nothing(timeout=0.2)
    await alice.disconnect()
    await bob.disconnect()


async def test_concurrent_senders_get_distinct_gapless_sequence_numbers():
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    bob, _ = await connect(chat.evaluator_b, chat)

    async def burst(communicator, prefix):
        for index in range(5):
            await send_message(communicator, f"{prefix}{index}", f"{prefix}{index}")

    await asyncio.gather(burst(alice, "a"), burst(bob, "b"))
    seqs = sorted([(await receive_until(alice, "message"))[0]["seq"] for _ in range(10)])
    assert seqs == list(range(1, 11))
    stored = await database_sync_to_async(lambda: list(Message.objects.values_list("seq", flat=True)))()
    assert sorted(stored) == list(range(1, 11))
    await alice.disconnect()
    await bob.disconnect()


async def test_a_suspended_evaluator_is_cut_off_and_the_partner_told():
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    bob, _ = await connect(chat.evaluator_b, chat)

    @database_sync_to_async
    def suspend_bob():
        evaluator = EvaluatorFactory(competition=chat.competition, user=chat.evaluator_b)
        services.evaluator_suspend(evaluator=evaluator, reason="abuse")

    await suspend_bob()
    alice_end, _ = await receive_until(alice, "ended")
    bob_end, _ = await receive_until(bob, "ended")
    await send_message(bob, "still here?", "b1")
    closed = await bob.receive_output(timeout=2)

    assert (alice_end["reason"], bob_end["reason"]) == ("partner_left", "left")
    assert closed == {"type": "websocket.close", "code": 4403}
    await alice.disconnect()
    await bob.disconnect()
