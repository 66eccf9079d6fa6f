"""Bad text, bad frames, bad paths and foreign origins on the chat websocket (the real ASGI stack)."""

import pytest
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from chat.models import Conversation, Evaluator, Message
from tests.chat.conftest import connect, drain, receive_until
from tests.chat.test_consumer import human_chat, refresh
from tests.factories import EvaluatorFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_chat_cleanup")]


async def still_open(communicator) -> bool:
    await communicator.send_json_to({"type": "ping"})
    pong, _ = await receive_until(communicator, "pong", timeout=2)
    return pong == {"type": "pong"}


@pytest.mark.parametrize(
    ("frame", "client_msg_id"),
    [
        ('{"type": "message", "client_msg_id": "m1", "text": "hi \\u0000 there"}', "m1"),
        ('{"type": "message", "client_msg_id": "m2", "text": "half a pair: \\ud800"}', "m2"),
        ('{"type": "message", "client_msg_id": "id\\u0000", "text": "fine text"}', "id\x00"),
        ('{"type": "message", "client_msg_id": "m3", "text": "\\udfff\\ud800"}', "m3"),
    ],
)
async def test_text_the_database_cannot_store_is_answered_bad_frame_and_the_socket_stays(frame, client_msg_id):
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    await alice.send_to(text_data=frame)
    refused, _ = await receive_until(alice, "error")

    assert (refused["code"], refused["client_msg_id"]) == ("bad_frame", client_msg_id)
    assert await still_open(alice)
    assert await database_sync_to_async(Message.objects.count)() == 0
    await alice.disconnect()


async def test_deeply_nested_json_is_answered_bad_frame_and_the_socket_stays():
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    await alice.send_to(text_data="[" * 30_000)
    refused, _ = await receive_until(alice, "error")

    assert refused["code"] == "bad_frame"
    assert await still_open(alice)
    await alice.disconnect()


async def test_a_path_that_is_not_a_conversation_id_closes_with_4404():
    from hulic.asgi import application

    for path in ("/ws/chat/not-a-uuid/", "/ws/chat/", "/ws/nowhere/"):
        headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
        communicator = WebsocketCommunicator(application, path, headers=headers)
        assert await communicator.connect(timeout=5) == (False, 4404), path
        await communicator.disconnect()


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:9999",  # same host, other port
        "https://localhost",  # same host, other scheme
        "http://localhost.evil.example",
        "http://evil.example",
        "null",
    ],
)
async def test_an_origin_that_is_not_the_sites_own_is_refused(origin):
    chat = await human_chat()
    communicator, refused = await connect(chat.evaluator_a, chat, origin=origin)
    assert not isinstance(refused, dict), f"{origin} must not get a hello frame"
    await communicator.disconnect()


async def test_the_sites_own_origin_and_trusted_origins_are_accepted(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://chat.example.org", "https://*.hulic.example"]
    chat = await human_chat()
    accepted = []
    for origin in ("http://localhost", "http://LOCALHOST:80", "https://chat.example.org", "https://eu.hulic.example"):
        communicator, hello = await connect(chat.evaluator_a, chat, origin=origin)
        accepted.append(isinstance(hello, dict))
        await communicator.disconnect()
    assert accepted == [True, True, True, True]


async def test_typing_frames_are_relayed_at_the_documented_cadence_only(settings):
    settings.CHAT_PRESENCE_TIME_SCALE = 1.0  # the production cadence (the chat tests' default turns it off)
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    bob, _ = await connect(chat.evaluator_b, chat)
    for _ in range(10):
        await alice.send_json_to({"type": "typing"})
    relayed = await drain(bob, timeout=0.5)
    own = await drain(alice, timeout=0.1)

    assert relayed == [{"type": "typing", "from": "partner"}]
    assert own == [], "surplus typing frames are dropped silently"
    await alice.disconnect()
    await bob.disconnect()


async def test_a_suspended_evaluators_leave_is_refused_and_closes_the_socket():
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    bob, _ = await connect(chat.evaluator_b, chat)

    @database_sync_to_async
    def suspend_bob_quietly():
        # Suspended while the chat runs, before anything ended it (e.g. a second process acting a moment later).
        EvaluatorFactory(competition=chat.competition, user=chat.evaluator_b, status=Evaluator.Status.SUSPENDED)

    await suspend_bob_quietly()
    await bob.send_json_to({"type": "leave"})
    closed = await bob.receive_output(timeout=2)

    assert closed == {"type": "websocket.close", "code": 4403}
    assert (await refresh(chat)).status == Conversation.Status.ACTIVE
    assert await alice.receive_nothing(timeout=0.3)
    await alice.disconnect()
    await bob.disconnect()


@pytest.mark.parametrize("last_seq", ["1e400", "-1e400", "100000000000000000000000", "NaN", "Infinity"])
async def test_a_resume_with_an_absurd_last_seq_is_answered_bad_frame_and_the_socket_stays(last_seq):
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    await alice.send_to(text_data=f'{{"type": "resume", "last_seq": {last_seq}}}')
    refused, _ = await receive_until(alice, "error")

    assert refused["code"] == "bad_frame"
    assert await still_open(alice)
    await alice.disconnect()


async def test_an_absurd_last_seq_in_the_url_is_read_as_zero():
    chat = await human_chat()
    alice, hello = await connect(chat.evaluator_a, chat, last_seq=10**30)
    assert hello["type"] == "hello"
    assert await still_open(alice)
    await alice.disconnect()


async def test_odd_frames_never_drop_the_socket():
    chat = await human_chat()
    alice, _ = await connect(chat.evaluator_a, chat)
    odd = [
        "[]",
        '"text"',
        "1",
        "null",
        '{"type": null}',
        '{"type": ["message"]}',
        '{"type": "message", "client_msg_id": 7, "text": "x"}',
        '{"type": "message", "client_msg_id": "x", "text": {"nested": true}}',
        '{"type": "message", "client_msg_id": "' + "i" * 65 + '", "text": "x"}',
        '{"type": "resume"}',
        '{"type": "resume", "last_seq": "12abc"}',
        '{"type": "ping", "\\u0000": "\\ud800"}',
    ]
    for frame in odd:
        await alice.send_to(text_data=frame)
    answers = await drain(alice, timeout=0.5)

    assert [a.get("code") for a in answers if a["type"] == "error"] == ["bad_frame"] * (len(odd) - 1)
    assert [a for a in answers if a["type"] == "pong"] == [{"type": "pong"}]
    assert await still_open(alice)
    await alice.disconnect()
