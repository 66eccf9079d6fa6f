"""Postgres backends terminated (pg_terminate_backend: a failover, a restart, an admin) while bot turns are in
flight and evaluators write: nothing acked is lost, every bot turn is answered, the chats go on."""

import time

import pytest
from django.db import connection

from chat.models import Message
from tests.chat.localbot import local_bot
from tests.factories import BotFactory, CompetitionFactory, ConversationFactory, UserFactory

from .chat_client import ChatSocket, session_cookie
from .conftest import free_port

pytestmark = pytest.mark.faults

CHATS = 5
PACING = {"CHAT_BOT_DELAY_MAX_MS": "2000", "CHAT_PRESENCE_TIME_SCALE": "1"}


def terminate_other_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def partner_says(text_start: str):
    return lambda frame: (
        frame["type"] == "message" and frame["from"] == "partner" and frame["text"].startswith(text_start)
    )


def test_terminated_database_connections_lose_no_message_and_no_bot_turn(processes):
    processes.redis()
    port = free_port()
    processes.web(port, **PACING)
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
        sockets = [ChatSocket(port, str(chat.public_id), session_cookie(chat.evaluator_a)) for chat in chats]
        try:
            for socket in sockets:
                socket.open()
            for n, socket in enumerate(sockets):
                socket.send_message(f"first-{n}", f"first {n}")

            assert terminate_other_backends() >= 1  # the web process's connections, mid-turn
            terminated_at = time.monotonic()
            for n, socket in enumerate(sockets):
                socket.wait_for(partner_says(f"echo: first {n}"), timeout=15)
            answered_after = time.monotonic() - terminated_at

            terminate_other_backends()  # again: the next messages meet dead connections
            for n, socket in enumerate(sockets):
                socket.send_message(f"second-{n}", f"second {n}")
            for n, socket in enumerate(sockets):
                socket.wait_for(partner_says(f"echo: second {n}"), timeout=15)

            terminate_other_backends()  # and a new handshake (session and user lookups) meets dead connections too
            fresh = ChatSocket(port, str(chats[0].public_id), session_cookie(chats[0].evaluator_a))
            sockets.append(fresh)
            assert fresh.open()["type"] == "hello"
        finally:
            for socket in sockets:
                socket.close()

    print(f"bot turns in flight answered {answered_after:.1f} s after their database connections were terminated")
    for chat in chats:
        sides = list(Message.objects.filter(conversation=chat).order_by("seq").values_list("side", flat=True))
        assert sides == ["a", "b", "a", "b"]
