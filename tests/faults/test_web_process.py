"""Bot turns outlive their web process: kill -9 or SIGTERM of a uvicorn process with turns in flight."""

import signal
import time

import pytest

from chat.models import Conversation, Message
from tests.chat.localbot import local_bot
from tests.factories import BotFactory, CompetitionFactory, ConversationFactory, UserFactory

from .chat_client import ChatSocket, session_cookie
from .conftest import free_port, wait_until

pytestmark = pytest.mark.faults

CHATS = 5
ANSWER_WITHIN_SECONDS = 10.0
# Human-like turns (chat.presence) capped at 3 s, so that every turn is still in flight when its process dies and
# is answered soon after.
PACING = {"CHAT_BOT_DELAY_MAX_MS": "3000", "CHAT_PRESENCE_TIME_SCALE": "1"}


def partner_message(frame: dict) -> bool:
    return frame["type"] == "message" and frame["from"] == "partner"


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_bot_turns_in_flight_are_answered_soon_after_their_process_dies(processes, how):
    processes.redis()
    port_a, port_b = free_port(), free_port()
    web_a = processes.web(port_a, "web-a", **PACING)
    processes.web(port_b, "web-b", **PACING)
    with local_bot() as bot:
        competition = CompetitionFactory()
        chats = [
            ConversationFactory(
                competition=competition,
                bot=BotFactory(competition=competition, endpoint_url=bot.url("ok")),
                evaluator_a=UserFactory(),
            )
            for _ in range(CHATS)
        ]
        on_a, on_b = [], []
        for chat in chats:
            cookie = session_cookie(chat.evaluator_a)
            on_a.append(ChatSocket(port_a, str(chat.public_id), cookie))
            on_b.append(ChatSocket(port_b, str(chat.public_id), cookie))
        try:
            for socket in on_a + on_b:
                socket.open()
            for n, socket in enumerate(on_a):
                socket.send({"type": "message", "client_msg_id": f"m{n}", "text": f"are you there {n}?"})
            for socket in on_a:
                socket.wait_for(lambda frame: frame["type"] == "ack", timeout=10)
            claimed = Conversation.objects.filter(pk__in=[c.pk for c in chats], bot_turn_started_at__isnull=False)
            wait_until(lambda: claimed.count() == CHATS, timeout=10, every=0.05)

            died_at = time.monotonic()
            web_a.stop(how)
            answered_after = []
            for socket in on_b:
                socket.wait_for(partner_message, timeout=ANSWER_WITHIN_SECONDS + 5)
                answered_after.append(time.monotonic() - died_at)
        finally:
            for socket in on_a + on_b:
                socket.close()

    print(f"orphaned bot turns answered {min(answered_after):.1f}-{max(answered_after):.1f} s after {how.name}")
    assert max(answered_after) < ANSWER_WITHIN_SECONDS
    for chat in chats:
        sides = list(Message.objects.filter(conversation=chat).order_by("seq").values_list("side", flat=True))
        assert sides == ["a", "b"]  # the acked message kept, one reply
