"""A Redis outage degrades quietly: saved judgments answer 201, handshakes get a close code the page retries, and
the logs get one line per failure kind, not a traceback per request."""

import signal

import httpx
import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.models import Conversation, Judgment
from tests.factories import ConversationFactory, UserFactory

from .chat_client import ChatSocket, session_cookie
from .conftest import free_port

pytestmark = pytest.mark.faults

CLOSE_TRY_AGAIN_LATER = 1013
ATTEMPTS = 20


def judgment_body(conversation) -> dict:
    return {
        "verdict": "bot",
        "confidence": 4,
        "ratings": dict.fromkeys(conversation.competition.criteria_keys, 3),
        "reason": "It answered too evenly.",
    }


def test_a_redis_outage_degrades_quietly(processes):
    redis = processes.redis()
    port = free_port()
    web = processes.web(port)
    ended = {"status": Conversation.Status.ENDED, "ended_at": timezone.now(), "end_reason": "time"}
    judged = [ConversationFactory(**ended) for _ in range(ATTEMPTS)]
    live = ConversationFactory(evaluator_a=UserFactory())
    cookie = session_cookie(live.evaluator_a)
    redis.stop(signal.SIGKILL)
    logged_before = len(web.output().splitlines())

    answers = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
        for conversation in judged:
            token = Token.objects.create(user=conversation.evaluator_a)
            response = client.post(
                f"/api/v1/chats/{conversation.public_id}/judgment/",
                json=judgment_body(conversation),
                headers={"Authorization": f"Token {token.key}"},
            )
            answers.append(response.status_code)
    closes = []
    for _ in range(ATTEMPTS):
        socket = ChatSocket(port, str(live.public_id), cookie)
        try:
            socket.open()
        except InvalidStatus as refused:
            closes.append(f"HTTP {refused.response.status_code}")
        except ConnectionClosed as closed:
            closes.append(closed.rcvd.code if closed.rcvd else None)
        else:
            pytest.fail("the chat opened without its channel layer")
        finally:
            socket.close()
    logged = web.output().splitlines()[logged_before:]

    assert answers == [201] * ATTEMPTS
    assert Judgment.objects.count() == ATTEMPTS
    assert closes == [CLOSE_TRY_AGAIN_LATER] * ATTEMPTS
    assert sum("Traceback" in line for line in logged) <= 2, "\n".join(logged[-40:])
    assert len(logged) <= 10, "\n".join(logged[-40:])
