"""Live chats across two web processes through a Redis restart: every acked message reaches the partner soon after
Redis returns."""

import signal
import time

import pytest

from chat.models import Message, PartnerKind
from tests.factories import ConversationFactory, UserFactory

from .chat_client import ChatSocket, session_cookie
from .conftest import free_port, wait_until

pytestmark = pytest.mark.faults

CHATS = 5
WITHIN_SECONDS = 5.0


def test_messages_acked_around_a_redis_restart_reach_the_partner_within_seconds(processes):
    redis = processes.redis()
    port_a, port_b = free_port(), free_port()
    web_a = processes.web(port_a, "web-a")
    web_b = processes.web(port_b, "web-b")
    chats = [
        ConversationFactory(
            partner_kind=PartnerKind.HUMAN, bot=None, evaluator_a=UserFactory(), evaluator_b=UserFactory()
        )
        for _ in range(CHATS)
    ]
    writers = [ChatSocket(port_a, str(chat.public_id), session_cookie(chat.evaluator_a)) for chat in chats]
    readers = [ChatSocket(port_b, str(chat.public_id), session_cookie(chat.evaluator_b)) for chat in chats]
    try:
        for socket in writers + readers:
            socket.open()
        for n, (writer, reader) in enumerate(zip(writers, readers, strict=True)):
            writer.send({"type": "message", "client_msg_id": f"before-{n}", "text": "before the restart"})
            reader.wait_for(lambda frame: frame.get("text") == "before the restart", timeout=10)

        redis.stop(signal.SIGTERM)
        redis = processes.redis()
        returned_at = time.monotonic()
        time.sleep(0.5)
        for n, writer in enumerate(writers):
            writer.send({"type": "message", "client_msg_id": f"after-{n}", "text": f"after the restart {n}"})
        for n, writer in enumerate(writers):
            writer.wait_for(
                lambda frame, n=n: frame.get("client_msg_id") == f"after-{n}" and frame["type"] == "ack", timeout=10
            )
        reached_after = []
        for n, reader in enumerate(readers):
            reader.wait_for(
                lambda frame, n=n: frame.get("text") == f"after the restart {n}", timeout=WITHIN_SECONDS + 10
            )
            reached_after.append(time.monotonic() - returned_at)
    finally:
        for socket in writers + readers:
            socket.close()

    print(
        f"acked messages reached their partners {min(reached_after):.1f}-{max(reached_after):.1f} s"
        " after Redis returned"
    )
    assert max(reached_after) <= WITHIN_SECONDS
    for web in (web_a, web_b):  # the outage is a few lines in the log, not a traceback per socket and second
        lines = web.output().splitlines()
        print(f"{web.name}: {len(lines)} log lines, {sum('Traceback' in line for line in lines)} tracebacks")
        assert sum("Traceback" in line for line in lines) <= 3, "\n".join(lines[-60:])
    wait_until(lambda: Message.objects.filter(text__startswith="after the restart").count() == CHATS, timeout=5)
