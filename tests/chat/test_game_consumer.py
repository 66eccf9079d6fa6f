"""A three-party game over the ordinary chat socket: one socket per pane, each with its own seq and resume."""

import pytest
from channels.db import database_sync_to_async

from chat.bot_turns import bot_turns_wait_all
from chat.services import games
from tests.chat.conftest import connect, drain, receive_until
from tests.factories import BotFactory, CompetitionFactory, EvaluatorFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("async_chat_cleanup", "lobby_hold")]


@database_sync_to_async
def new_game(url: str):
    competition = CompetitionFactory(mode="three_party")
    BotFactory(competition=competition, endpoint_url=url)
    first, second = (EvaluatorFactory(competition=competition, user=UserFactory()).user for _ in range(2))
    games.game_request_start(competition=competition, user=first, language="en")
    request = games.game_request_start(competition=competition, user=second, language="en")
    game = request.game
    return game, game.interrogator, game.witness, game.human_conversation, game.bot_conversation


async def say(communicator, text, client_msg_id):
    await communicator.send_json_to({"type": "message", "client_msg_id": client_msg_id, "text": text})
    return (await receive_until(communicator, "ack"))[0]


async def test_each_pane_is_its_own_conversation_and_the_bot_is_told_the_mode(localbot):
    _game, interrogator, witness, human_chat, bot_chat = await new_game(localbot.url("ok"))
    to_human, hello_h = await connect(interrogator, human_chat)
    to_bot, hello_b = await connect(interrogator, bot_chat)
    as_witness, hello_w = await connect(witness, human_chat)
    clocks = {hello_h["seconds_left"], hello_b["seconds_left"], hello_w["seconds_left"]}
    assert max(clocks) - min(clocks) <= 1 and max(clocks) >= 298  # one shared deadline
    assert hello_h["your_turn_first"] and hello_b["your_turn_first"] and not hello_w["your_turn_first"]

    assert (await say(to_human, "are you human?", "h1"))["seq"] == 1
    assert (await say(to_bot, "are you a bot?", "b1"))["seq"] == 1
    heard, _ = await receive_until(as_witness, "message")
    assert (heard["from"], heard["text"]) == ("partner", "are you human?")
    reply = await receive_until(to_bot, "message")
    reply = reply if reply[0]["from"] == "partner" else await receive_until(to_bot, "message")
    assert reply[0]["text"] == "echo: are you a bot?"
    await bot_turns_wait_all()
    # The witness never hears the bot pane; the bot never sees the human pane.
    assert all(frame.get("text") != "echo: are you a bot?" for frame in await drain(as_witness))
    assert [p["mode"] for p in localbot.payloads] == ["three_party"]
    assert [m["text"] for m in localbot.payloads[0]["messages"]] == ["are you a bot?"]

    _refused, frame = await connect(witness, bot_chat)
    assert not isinstance(frame, dict)  # the witness cannot open the bot's pane
    for communicator in (to_human, to_bot, as_witness):
        await communicator.disconnect()


async def test_reconnect_on_one_pane_gets_exactly_its_missed_messages_and_leaves_the_other_alone(localbot):
    _game, interrogator, witness, human_chat, bot_chat = await new_game(localbot.url("ok"))
    to_human, _ = await connect(interrogator, human_chat)
    to_bot, _ = await connect(interrogator, bot_chat)
    as_witness, _ = await connect(witness, human_chat)
    await say(to_human, "hello", "h1")
    await receive_until(as_witness, "message")
    await to_human.disconnect()  # the human pane drops; the bot pane stays up

    await say(as_witness, "still there?", "w1")
    await say(as_witness, "hello?", "w2")
    await say(to_bot, "and you?", "b1")

    to_human, hello = await connect(interrogator, human_chat, last_seq=1)
    missed = [(await receive_until(to_human, "message"))[0] for _ in range(2)]
    assert hello["last_seq"] == 3
    assert [(m["seq"], m["text"]) for m in missed] == [(2, "still there?"), (3, "hello?")]
    await bot_turns_wait_all()
    bot_frames = [f for f in await drain(to_bot) if f["type"] == "message"]
    assert [(f["seq"], f["from"]) for f in bot_frames] == [(1, "me"), (2, "partner")]
    # Resume on the bot pane after a drop: only what came after last_seq.
    await to_bot.disconnect()
    to_bot, hello = await connect(interrogator, bot_chat, last_seq=1)
    again = await receive_until(to_bot, "message")
    assert (again[0]["seq"], again[0]["text"]) == (2, "echo: and you?")
    for communicator in (to_human, to_bot, as_witness):
        await communicator.disconnect()
