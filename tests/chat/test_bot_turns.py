"""Bot turns against a real local HTTP bot: replies, bot-first chats, failures, socket drops, blinding."""

import json

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError

from chat import bot_turns, services
from chat.bot_turns import bot_turn_schedule, bot_turns_wait_all
from chat.models import Conversation, Message
from chat.selectors import unjudged_conversation_for
from competitions.models import BotCall
from tests.chat.conftest import connect, receive_until
from tests.factories import BotFactory, CompetitionFactory, ConversationFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_chat_cleanup")]

BOT_NAME = "Zephyrine-Secret-Bot"
TEAM_NAME = "Hidden Lab of Tests"


@database_sync_to_async
def bot_chat(url: str, *, first_speaker: str = "a", **competition_fields):
    competition = CompetitionFactory(**competition_fields)
    bot = BotFactory(competition=competition, name=BOT_NAME, team=TeamFactory(name=TEAM_NAME), endpoint_url=url)
    return ConversationFactory(
        competition=competition, bot=bot, evaluator_a=UserFactory(), first_speaker=first_speaker, alias_b="Willow"
    )


@database_sync_to_async
def refresh(conversation):
    conversation.refresh_from_db()
    return conversation


@database_sync_to_async
def bot_messages(conversation):
    return list(Message.objects.filter(conversation=conversation, side="b").order_by("seq"))


async def test_bot_reply_arrives_after_typing_and_is_saved(localbot):
    chat = await bot_chat(localbot.url("ok"))
    alice, hello = await connect(chat.evaluator_a, chat)
    await alice.send_json_to({"type": "message", "client_msg_id": "m1", "text": "hello bot"})
    reply, before = await receive_until(alice, "message")
    reply, before2 = await receive_until(alice, "message") if reply["from"] == "me" else (reply, [])
    await bot_turns_wait_all()
    stored = await bot_messages(chat)

    assert any(frame["type"] == "typing" for frame in before + before2)
    assert (reply["from"], reply["text"], reply["seq"]) == ("partner", "echo: hello bot", 2)
    assert set(reply) == {"type", "seq", "from", "text", "sent_at"}
    assert len(stored) == 1 and stored[0].bot_latency_ms is not None
    payload = localbot.payloads[0]
    assert payload["conversation_id"] == str(chat.bot_conversation_id)
    assert [m["role"] for m in payload["messages"]] == ["user"]
    assert hello["partner"] == "Willow"
    await alice.disconnect()


async def test_bot_that_speaks_first_starts_when_the_chat_opens(localbot):
    chat = await bot_chat(localbot.url("ok"), first_speaker="b")
    alice, hello = await connect(chat.evaluator_a, chat)
    opening, _ = await receive_until(alice, "message")
    await bot_turns_wait_all()
    assert hello["your_turn_first"] is False
    assert (opening["from"], opening["text"], opening["seq"]) == ("partner", "hello there", 1)
    await alice.disconnect()


async def test_a_database_error_while_claiming_the_turn_is_retried_and_the_bot_still_answers(localbot, monkeypatch):
    monkeypatch.setattr(bot_turns, "CLAIM_RETRY_SECONDS", 0.01)
    real_claim = services.bot_turn_claim
    failures = []

    def claim_failing_once(**kwargs):
        if not failures:
            failures.append(1)
            raise OperationalError("server closed the connection unexpectedly")
        return real_claim(**kwargs)

    monkeypatch.setattr(services, "bot_turn_claim", claim_failing_once)
    chat = await bot_chat(localbot.url("ok"), first_speaker="b")
    alice, _ = await connect(chat.evaluator_a, chat)
    opening, _ = await receive_until(alice, "message")
    await bot_turns_wait_all()

    assert failures == [1]
    assert (opening["from"], opening["text"]) == ("partner", "hello there")
    await alice.disconnect()


@pytest.mark.parametrize("behaviour", ["hang", "fail"])
async def test_a_failing_bot_is_retried_once_then_the_chat_ends_neutrally(localbot, behaviour):
    localbot.hang_seconds = 1.5
    # One message counts here, so the failed chat is long enough to need a judgment (shorter ones need none).
    chat = await bot_chat(localbot.url(behaviour), min_turns_to_count=1)
    alice, _ = await connect(chat.evaluator_a, chat)
    await alice.send_json_to({"type": "message", "client_msg_id": "m1", "text": "are you there?"})
    ended, _ = await receive_until(alice, "ended", timeout=8)
    await bot_turns_wait_all()
    chat = await refresh(chat)
    calls = await database_sync_to_async(
        lambda: list(BotCall.objects.filter(bot=chat.bot_id).values_list("ok", "purpose"))
    )()

    assert ended["reason"] == "partner_left"
    assert (chat.status, chat.end_reason) == (Conversation.Status.BOT_FAILED, Conversation.EndReason.BOT_FAILED)
    assert calls == [(False, BotCall.Purpose.TURN)] * 2
    # Judged like a chat whose human partner left, or the need to judge would tell the two apart.
    pending = await database_sync_to_async(lambda: unjudged_conversation_for(user=chat.evaluator_a))()
    assert pending == chat
    await alice.disconnect()


async def test_a_reply_the_database_cannot_store_is_a_bot_failure_of_its_own_kind(localbot):
    """A NUL in a reply used to be recorded as a success whose save then failed: the chat stalled, silent."""
    chat = await bot_chat(localbot.url("nul"))
    alice, _ = await connect(chat.evaluator_a, chat)
    await alice.send_json_to({"type": "message", "client_msg_id": "m1", "text": "say something odd"})
    ended, _ = await receive_until(alice, "ended", timeout=8)
    await bot_turns_wait_all()
    chat = await refresh(chat)
    calls = await database_sync_to_async(
        lambda: list(BotCall.objects.filter(bot=chat.bot_id).values_list("ok", "failure_kind"))
    )()

    assert ended["reason"] == "partner_left"
    assert chat.status == Conversation.Status.BOT_FAILED
    assert calls == [(False, BotCall.Failure.BAD_TEXT)] * 2
    assert await bot_messages(chat) == []
    await alice.disconnect()


async def test_bot_turn_survives_the_socket_dropping_and_is_delivered_on_reconnect(localbot):
    chat = await bot_chat(localbot.url("ok"))
    alice, _ = await connect(chat.evaluator_a, chat)
    await alice.send_json_to({"type": "message", "client_msg_id": "m1", "text": "quick question"})
    await receive_until(alice, "ack")
    await alice.disconnect()
    await bot_turns_wait_all()

    alice, hello = await connect(chat.evaluator_a, chat, last_seq=1)
    missed = [(await receive_until(alice, "message"))[0]]
    assert await alice.receive_nothing(timeout=0.3)
    assert hello["last_seq"] == 2
    assert [(m["seq"], m["from"], m["text"]) for m in missed] == [(2, "partner", "echo: quick question")]
    await alice.disconnect()


async def test_a_user_message_is_answered_once_however_often_the_turn_is_triggered(localbot):
    chat = await bot_chat(localbot.url("ok"))
    alice, _ = await connect(chat.evaluator_a, chat)
    await alice.send_json_to({"type": "message", "client_msg_id": "m1", "text": "just once"})
    await receive_until(alice, "ack")
    for _ in range(5):
        bot_turn_schedule(chat.pk)
    second, _ = await connect(chat.evaluator_a, chat)
    await bot_turns_wait_all()

    assert len(await bot_messages(chat)) == 1
    assert len(localbot.payloads) == 1
    await alice.disconnect()
    await second.disconnect()


async def test_nothing_identifying_the_bot_reaches_the_browser(localbot, client):
    chat = await bot_chat(localbot.url("ok"), first_speaker="b")
    alice, hello = await connect(chat.evaluator_a, chat)
    frames = [hello]
    message, seen = await receive_until(alice, "message")
    frames += [*seen, message]
    await alice.send_json_to({"type": "message", "client_msg_id": "m1", "text": "who are you?"})
    for _ in range(3):
        frame, seen = await receive_until(alice, "message")
        frames += [*seen, frame]
        if frame["from"] == "partner":
            break
    await alice.send_json_to({"type": "leave"})
    ended, seen = await receive_until(alice, "ended")
    frames += [*seen, ended]
    await bot_turns_wait_all()
    await alice.disconnect()

    @database_sync_to_async
    def pages():
        client.force_login(chat.evaluator_a)
        return client.get(f"/chat/{chat.public_id}/judge/").content.decode()

    wire = json.dumps(frames) + await pages()
    bot = await database_sync_to_async(lambda: chat.bot)()
    for secret in (BOT_NAME, TEAM_NAME, bot.endpoint_url, f"127.0.0.1:{localbot.port}", str(chat.bot_conversation_id),
                   bot.signing_secret):  # fmt: skip
        assert secret not in wire
    assert all(set(f) <= {"type", "seq", "from", "text", "sent_at"} for f in frames if f.get("from") == "partner")


async def test_bot_replies_are_moderated_like_human_messages(localbot):
    chat = await bot_chat(localbot.url("rude"))
    alice, _ = await connect(chat.evaluator_a, chat)
    await alice.send_json_to({"type": "message", "client_msg_id": "m1", "text": "say: you fucking idiot"})
    reply = None
    while reply is None or reply["from"] != "partner":
        reply, _ = await receive_until(alice, "message")
    await bot_turns_wait_all()
    stored = (await bot_messages(chat))[0]

    assert stored.flagged and "fucking" in stored.text
    assert "fucking" not in reply["text"] and reply["text"] == stored.delivered_text
    assert "fucking" not in localbot.payloads[0]["messages"][0]["text"]

    await alice.send_json_to({"type": "message", "client_msg_id": "m2", "text": "pardon?"})
    second = None
    while second is None or second["from"] != "partner":
        second, _ = await receive_until(alice, "message")
    await bot_turns_wait_all()
    # The bot's own history holds what the evaluator saw, not its raw reply.
    assert localbot.payloads[1]["messages"][1] == {**localbot.payloads[1]["messages"][1], "text": reply["text"]}
    await alice.disconnect()


async def test_a_reply_over_the_chats_limit_is_a_bot_failure_never_delivered(localbot):
    chat = await bot_chat(localbot.url("long"), max_message_chars=300)
    alice, _ = await connect(chat.evaluator_a, chat)
    await alice.send_json_to({"type": "message", "client_msg_id": "m1", "text": "tell me everything"})
    ended, seen = await receive_until(alice, "ended", timeout=8)
    await bot_turns_wait_all()
    calls = await database_sync_to_async(
        lambda: list(BotCall.objects.filter(bot=chat.bot_id).values_list("failure_kind", flat=True))
    )()
    bot = await database_sync_to_async(lambda: type(chat.bot).objects.get(pk=chat.bot_id))()

    assert [p["max_chars"] for p in localbot.payloads] == [300, 300]
    assert calls == [BotCall.Failure.OVER_CHAT_LIMIT] * 2
    assert "300" in bot.last_failure_reason  # shown to the team on the bot's page
    assert not [f for f in seen if f["type"] == "message" and f["from"] == "partner"]
    assert ended["reason"] == "partner_left" and await bot_messages(chat) == []
    await alice.disconnect()


async def test_an_answered_message_costs_one_claim_and_its_bot_calls_are_all_recorded(localbot, monkeypatch):
    """The claim ran again after every answer only to find no turn due; the calls' records are batched."""
    real_claim = services.bot_turn_claim
    claims = []

    def counting_claim(**kwargs):
        claims.append(kwargs["conversation_id"])
        return real_claim(**kwargs)

    monkeypatch.setattr(services, "bot_turn_claim", counting_claim)
    chat = await bot_chat(localbot.url("ok"))
    alice, _ = await connect(chat.evaluator_a, chat)
    await alice.send_json_to({"type": "ping"})
    await receive_until(alice, "pong")  # the socket has finished opening, which triggers a turn
    await bot_turns_wait_all()
    claims.clear()  # that one found nothing to answer
    for n in range(3):
        await alice.send_json_to({"type": "message", "client_msg_id": f"m{n}", "text": f"question {n}"})
        frame = {}
        while frame.get("from") != "partner":
            frame, _ = await receive_until(alice, "message")
        await bot_turns_wait_all()
    calls = await database_sync_to_async(lambda: BotCall.objects.filter(bot=chat.bot_id, ok=True).count())()

    assert len(await bot_messages(chat)) == 3
    assert claims == [chat.pk] * 3
    assert calls == 3
    await alice.disconnect()
