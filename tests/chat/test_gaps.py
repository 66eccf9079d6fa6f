"""Messages saved while the channel layer lost their events (a Redis restart) still reach the partner: through the
client's ping, which carries its last seq, and through the process-wide resync after Redis returns."""

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError

from chat import services
from chat.consumers import chat_sockets_resync
from tests.chat.conftest import connect, drain, receive_until
from tests.chat.test_consumer import human_chat

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_chat_cleanup")]


@database_sync_to_async
def saved_without_its_event(chat, text):
    """What a Redis restart leaves: the message saved and acked, its event published to nobody."""
    return services.message_post(
        conversation=chat, side="a", author=chat.evaluator_a, client_msg_id=text, text=text
    ).message.seq


async def test_a_ping_with_the_last_seq_gets_the_missed_messages_before_pong():
    chat = await human_chat()
    bob, _ = await connect(chat.evaluator_b, chat)
    seq = await saved_without_its_event(chat, "lost in the restart")

    await bob.send_json_to({"type": "ping", "last_seq": 0})
    missed, _ = await receive_until(bob, "message")
    pong, _ = await receive_until(bob, "pong")

    assert (missed["seq"], missed["text"], missed["from"]) == (seq, "lost in the restart", "partner")
    assert pong == {"type": "pong"}
    await bob.send_json_to({"type": "ping", "last_seq": seq})
    assert await receive_until(bob, "pong") == ({"type": "pong"}, [])  # nothing twice
    await bob.disconnect()


async def test_after_redis_returns_every_socket_fetches_what_it_missed():
    chat = await human_chat()
    bob, _ = await connect(chat.evaluator_b, chat)
    await saved_without_its_event(chat, "first")
    await saved_without_its_event(chat, "second")

    await chat_sockets_resync()
    frames = await drain(bob)
    await chat_sockets_resync()

    assert [frame["text"] for frame in frames if frame["type"] == "message"] == ["first", "second"]
    assert await drain(bob) == []
    await bob.disconnect()


async def test_a_message_that_meets_a_lost_database_connection_is_answered_busy_and_counts_once(monkeypatch):
    from chat import consumers

    real_post = consumers._message_post
    failures = []

    async def post_failing_once(**kwargs):
        if not failures:
            failures.append(1)
            raise OperationalError("terminating connection due to administrator command")
        return await real_post(**kwargs)

    monkeypatch.setattr(consumers, "_message_post", post_failing_once)
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    frame = {"type": "message", "client_msg_id": "m1", "text": "still there?"}

    await alice.send_json_to(frame)
    busy, _ = await receive_until(alice, "error")
    await alice.send_json_to(frame)
    ack, _ = await receive_until(alice, "ack")

    assert (busy["code"], busy["client_msg_id"]) == ("busy", "m1") and busy["retry_after_ms"] > 0
    assert ack["seq"] == 1
    await alice.disconnect()
