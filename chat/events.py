"""Realtime fan-out of chat events over the channel layer. The database is the truth; events only wake sockets."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from hulic.log_throttle import ThrottledLog

# A lost event costs a socket nothing but latency (the consumer fetches what it missed, docs/chat-protocol.md), so
# failures to send one are logged quietly: one line per kind per interval.
quiet_log = ThrottledLog(logging.getLogger(__name__))


def conversation_group(conversation_id: int) -> str:
    """Server-side group name; never sent to a browser."""
    return f"chat.{conversation_id}"


def message_event(message) -> dict:
    return {
        "type": "chat.message",
        "seq": message.seq,
        "side": message.side,
        "text": message.text,
        "delivered_text": message.delivered_text,
        "flagged": message.flagged,
        "client_msg_id": message.client_msg_id,
        "sent_at": message.created_at.isoformat(),
    }


def ended_event(conversation) -> dict:
    return {
        "type": "chat.ended",
        "status": conversation.status,
        "reason": conversation.end_reason,
        "by_side": conversation.ended_by,
    }


async def events_send(conversation_id: int, events: tuple[dict, ...]) -> None:
    """Broadcast events a service returned; call it only after that service's write has committed.

    The hot path sends from the event loop rather than from the database thread (``send_event_on_commit``), which
    would hold that thread for a round trip through the loop per message.
    """
    layer = get_channel_layer()
    if layer is None:
        return
    for event in events:
        await layer.group_send(conversation_group(conversation_id), event)


def send_event_on_commit(conversation_id: int, event: dict) -> None:
    """Broadcast once the transaction that produced the event has committed, so a socket never sees uncommitted data.

    For writes made outside the websocket path (admin, tasks, suspensions, ends); they are rare.
    """

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(conversation_group(conversation_id), event)
        except Exception as error:
            quiet_log.warning("event-send", "sending a chat event failed", error=error)

    transaction.on_commit(send)
