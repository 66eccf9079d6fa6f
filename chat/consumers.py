"""The chat websocket (protocol: docs/chat-protocol.md). Thin: services write, the database is the truth."""

import asyncio
import json
import logging
import random
import time
import weakref
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone
from redis.exceptions import RedisError

from chat import selectors, services
from chat.bot_turns import bot_turn_schedule
from chat.db import chat_database, chat_database_backlog
from chat.events import conversation_group
from chat.models import Conversation, Evaluator
from chat.pacing import TokenBucket
from chat.presence import CADENCE_MIN_INTERVAL_S, SAVE_LATENCY, TurnRecorder, TypingCadence
from chat.services.presence import presence_leave_record, presence_turn_record
from hulic.log_throttle import ThrottledLog
from hulic.storable_text import unstorable_character_index

CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_BIG = 1009
# The channel layer (Redis) or the database is unreachable: the page reconnects with backoff (docs/chat-protocol.md).
CLOSE_TRY_AGAIN_LATER = 1013
quiet_log = ThrottledLog(logging.getLogger(__name__))
_open_sockets: "weakref.WeakSet[ChatConsumer]" = weakref.WeakSet()
# Frames of any kind one socket may send: a burst of 20, then 4 a second. Chat messages have their own,
# stricter per-evaluator limit (CHAT_MESSAGES_PER_10S) in the service.
FRAME_BURST = 20
FRAMES_PER_SECOND = 4.0


# The largest sequence number the database can hold (a Postgres integer): a larger last_seq is not a real one.
MAX_SEQ = 2**31 - 1


def _int_or_none(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's 1e400 is an infinite float
        return None
    return number if 0 <= number <= MAX_SEQ else None


@chat_database
def _load_for_user(public_id, user) -> tuple[Conversation | None, bool]:
    conversation = selectors.conversation_for_participant(public_id=public_id, user=user)
    exists = conversation is not None or Conversation.objects.filter(public_id=public_id).exists()
    return conversation, exists


@chat_database
def _authorised_conversation(conversation_id: int, user) -> Conversation | None:
    """Re-checked before leaving: still a side of this chat and not suspended (message_post checks its own)."""
    conversation = Conversation.objects.for_user(user).select_related("competition").filter(pk=conversation_id).first()
    if conversation is None:
        return None
    suspended = Evaluator.objects.filter(
        competition_id=conversation.competition_id, user=user, status=Evaluator.Status.SUSPENDED
    ).exists()
    return None if suspended else conversation


_message_post = chat_database(services.message_post)
_messages_after = chat_database(selectors.messages_after)
_turn_record = chat_database(presence_turn_record)
_leave_record = chat_database(presence_leave_record)


class UnknownPathConsumer(AsyncJsonWebsocketConsumer):
    """Any other websocket path (e.g. /ws/chat/not-a-uuid/): the documented 4404, not a routing error's HTTP 500."""

    async def connect(self) -> None:
        await self.close(code=CLOSE_NOT_FOUND)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def __call__(self, scope, receive, send) -> None:
        """Channels asks the layer for this socket's channel before ``connect``: with Redis down that raised, and the
        handshake got an HTTP 500 with a traceback. It gets the close code the page retries instead."""
        answered = False

        async def tracking_send(message) -> None:
            nonlocal answered
            answered = True
            await send(message)

        try:
            await super().__call__(scope, receive, tracking_send)
        except (RedisError, OSError) as error:
            if answered:
                raise
            quiet_log.warning("chat-connect-layer", "a chat socket was refused for now", error=error)
            await receive()  # websocket.connect
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})

    async def dispatch(self, message) -> None:
        """Every event straight to its handler.

        Channels' dispatch first runs close_old_connections in Django's one sync thread, for every frame and every
        group event: a thread hop per event, all of a process's sockets queued behind one thread (a sixth of the
        server's time at 400 messages/s). This consumer touches the database only through chat_database, whose
        calls check their own connections (chat/db.py), so the hop guards nothing here.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.sent_seq = 0
        self.timer: asyncio.Task | None = None
        self.group = None
        self.frames = TokenBucket(capacity=FRAME_BURST, refill_per_second=FRAMES_PER_SECOND)
        # The same cadence rule as the bot's typing (chat.bot_turns), so typing frames' rhythm tells nothing; it
        # also keeps a script from flooding the partner's screen.
        self.typing_cadence = TypingCadence(CADENCE_MIN_INTERVAL_S * settings.CHAT_PRESENCE_TIME_SCALE)
        self.recorder = TurnRecorder()
        try:
            public_id = self.scope["url_route"]["kwargs"]["public_id"]
            conversation, exists = await _load_for_user(public_id, self.user)
        except (KeyError, ValueError):
            conversation, exists = None, False
        except DatabaseError as error:
            await self._try_again_later("chat-connect-database", error)
            return
        if conversation is None:
            await self.close(code=CLOSE_FORBIDDEN if exists else CLOSE_NOT_FOUND)
            return
        # Kept for the socket's life: message_post reads only its id, language and length limit from it.
        self.conversation = conversation
        self.conversation_id = conversation.pk
        self.public_id = conversation.public_id
        self.side = conversation.side_of(self.user)
        self.is_bot_chat = conversation.is_bot_chat
        try:
            await self.channel_layer.group_add(conversation_group(conversation.pk), self.channel_name)
        except Exception as error:
            await self._try_again_later("chat-connect-layer", error)
            return
        self.competition_id = conversation.competition_id
        if conversation.is_active and conversation.last_seq == 0:
            # From this page's opening: a person cannot type before it, and a bot's opening counts from the
            # evaluator's (chat.bot_turns._read_from).
            self.recorder.chat_started(time.time())
        self.group = conversation_group(conversation.pk)
        await self.accept()
        _open_sockets.add(self)
        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.sent_seq = _int_or_none(query.get("last_seq", ["0"])[0]) or 0
        await self.send_json(self._hello(conversation))
        await self._send_backlog()
        if conversation.is_active:
            self.timer = asyncio.get_running_loop().create_task(self._end_at_deadline(conversation.deadline_at))
            if self.is_bot_chat:
                bot_turn_schedule(self.conversation_id)
        else:
            await self.send_json(self._ended_frame(conversation.status, conversation.end_reason, conversation.ended_by))

    async def _try_again_later(self, kind: str, error: Exception) -> None:
        """Accepted, then closed with a code the page retries: a refused handshake would be an HTTP 500."""
        quiet_log.warning(kind, "a chat socket was refused for now", error=error)
        await self.accept()
        await self.close(code=CLOSE_TRY_AGAIN_LATER)

    async def disconnect(self, code) -> None:
        _open_sockets.discard(self)
        if self.timer is not None:
            self.timer.cancel()
        if self.group is not None:
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            except Exception as error:
                quiet_log.warning("chat-leave-group", "leaving a chat group failed", error=error)

    async def websocket_receive(self, message) -> None:
        """Cap frames before parsing; throttle floods per socket, so one noisy client slows only itself."""
        raw = message.get("text")
        if raw is None:
            raw = message.get("bytes") or b""
        size = len(raw.encode()) if isinstance(raw, str) else len(raw)
        if size > settings.CHAT_MAX_FRAME_BYTES:
            await self.close(code=CLOSE_TOO_BIG)
            return
        if not self.frames.take():
            await self.send_json({"type": "error", "code": "rate_limited", "message": "Slow down."})
            return
        try:
            content = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            content = None
        if not isinstance(content, dict):
            await self._error("bad_frame", "Frames are JSON objects.")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs) -> None:
        kind = content.get("type")
        if kind == "message":
            await self._on_message(content)
        elif kind == "typing":
            self.recorder.typed(time.time())
            if self.typing_cadence.admit():
                await self._broadcast(({"type": "chat.typing", "side": self.side},))
        elif kind == "resume":
            last_seq = _int_or_none(content.get("last_seq"))
            if last_seq is None:
                await self._error("bad_frame", "resume needs last_seq.")
                return
            self.sent_seq = last_seq
            await self._send_backlog()
        elif kind == "leave":
            leave_s = self.recorder.left(time.time())  # when the browser asked, as a bot's leaving is timed
            conversation = await _authorised_conversation(self.conversation_id, self.user)
            if conversation is None:
                await self.close(code=CLOSE_FORBIDDEN)
                return
            left = await chat_database(services.conversation_leave)(conversation=conversation, side=self.side)
            if left and not self.is_bot_chat and leave_s is not None:
                await self._record(_leave_record, seconds=leave_s)
        elif kind == "ping":
            # The client's last seq: what it has not got (events lost while Redis restarted) is sent before pong.
            last_seq = _int_or_none(content.get("last_seq"))
            if last_seq is not None:
                self.sent_seq = min(self.sent_seq, last_seq)
                await self._send_backlog()
            await self.send_json({"type": "pong"})
        else:
            await self._error("bad_frame", "Unknown frame type.")

    async def _on_message(self, content: dict) -> None:
        received_at = time.time()
        client_msg_id, text = content.get("client_msg_id"), content.get("text")
        if not isinstance(client_msg_id, str) or not client_msg_id or len(client_msg_id) > 64:
            await self._error("bad_frame", "client_msg_id is a string of 1 to 64 characters.")
            return
        if not isinstance(text, str):
            await self._error("bad_frame", "text is a string.", client_msg_id=client_msg_id)
            return
        if any(unstorable_character_index(value) is not None for value in (client_msg_id, text)):
            # Postgres cannot store it: refused here, not by a failed save that would drop the socket.
            await self._error("bad_frame", "NUL and lone surrogates are not allowed.", client_msg_id=client_msg_id)
            return
        if chat_database_backlog() > settings.CHAT_BUSY_BACKLOG:
            # Shed load visibly instead of queueing without bound: nothing is saved; the same id resent counts once.
            retry_ms = round(settings.CHAT_BUSY_RETRY_MS * (0.5 + random.random()))
            await self._error("busy", "The server is busy.", client_msg_id=client_msg_id, retry_after_ms=retry_ms)
            return
        saving = time.monotonic()
        try:
            posted = await _message_post(
                conversation=self.conversation,
                side=self.side,
                author=self.user,
                client_msg_id=client_msg_id,
                text=text,
            )
        except services.NotAParticipant:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        except services.MessageRejected as rejected:
            await self._error(rejected.code, str(rejected), client_msg_id=client_msg_id)
            await self._broadcast(rejected.events)
            return
        except DatabaseError as error:
            # A lost connection (a failover, a restart): not acked, so the client sends the same id again, and a
            # message that was saved after all is answered with its original ack.
            quiet_log.warning("chat-message-database", "saving a chat message failed", error=error)
            retry_ms = round(settings.CHAT_BUSY_RETRY_MS * (0.5 + random.random()))
            await self._error("busy", "The server is busy.", client_msg_id=client_msg_id, retry_after_ms=retry_ms)
            return
        SAVE_LATENCY.note(bot=False, seconds=time.monotonic() - saving)
        # Saved (committed) before anyone is told: the ack first, then the partner and this side's other sockets.
        await self.send_json({"type": "ack", "client_msg_id": client_msg_id, "seq": posted.message.seq})
        await self._broadcast(posted.events)
        if self.is_bot_chat and posted.created and not posted.ended_reason:
            bot_turn_schedule(self.conversation_id)
        if not self.is_bot_chat and posted.created:
            await self._record_turn(chars=len(posted.message.text), sent_at=received_at)

    async def _record_turn(self, *, chars: int, sent_at: float) -> None:
        """A control chat's human partner finished a message: keep its timings (never its text) for the bots."""
        # When the browser sent it, as its typing frames are timed: saving and relaying it cost a bot the same.
        finished = self.recorder.sent(at_s=sent_at, chars=chars)
        if finished is not None:
            timing, opening = finished
            await self._record(_turn_record, timing=timing, opening=opening)

    async def _record(self, record, **fields) -> None:
        """A lost sample only makes the bots' material a little older: never an error for the evaluator."""
        try:
            await record(competition_id=self.competition_id, **fields)
        except Exception as error:
            quiet_log.warning("presence-record", "recording a presence sample failed", error=error)

    async def _end_at_deadline(self, deadline) -> None:
        """End the chat when time is up, even if nobody sends anything (every connected socket races; one wins)."""
        await asyncio.sleep(max(0.0, (deadline - timezone.now()).total_seconds()) + 0.05)
        conversation = await chat_database(Conversation.objects.get)(pk=self.conversation_id)
        await chat_database(services.conversation_end_if_expired)(conversation=conversation)

    async def _broadcast(self, events: tuple[dict, ...]) -> None:
        """Saved before this is called: if the layer is down the partner fetches the events' messages later."""
        for event in events:
            try:
                await self.channel_layer.group_send(self.group, event)
            except Exception as error:
                quiet_log.warning("chat-broadcast", "broadcasting a chat event failed", error=error)
                return

    async def _send_backlog(self) -> None:
        for message in await _messages_after(conversation_id=self.conversation_id, after_seq=self.sent_seq):
            if message.seq <= self.sent_seq:  # sent meanwhile by an event (a resync runs beside the events)
                continue
            await self._send_message(
                seq=message.seq,
                side=message.side,
                text=message.text,
                delivered_text=message.delivered_text,
                flagged=message.flagged,
                client_msg_id=message.client_msg_id,
                sent_at=message.created_at.isoformat(),
            )

    async def _send_message(self, *, seq, side, text, delivered_text, flagged, client_msg_id, sent_at) -> None:
        """One message frame, from this side's point of view; the shape never depends on who the partner is."""
        frame = {"type": "message", "seq": seq, "sent_at": sent_at}
        if side == self.side:
            frame.update({"from": "me", "text": text, "client_msg_id": client_msg_id, "masked": flagged})
        else:
            frame.update({"from": "partner", "text": delivered_text})
        await self.send_json(frame)
        self.sent_seq = seq
        if side != self.side:
            self.recorder.partner_spoke(time.time())

    async def chat_message(self, event: dict) -> None:
        if event["seq"] <= self.sent_seq:
            return
        if event["seq"] > self.sent_seq + 1:
            await self._send_backlog()
            return
        await self._send_message(**{key: event[key] for key in (
            "seq", "side", "text", "delivered_text", "flagged", "client_msg_id", "sent_at"
        )})  # fmt: skip

    async def chat_typing(self, event: dict) -> None:
        if event["side"] != self.side:
            await self.send_json({"type": "typing", "from": "partner"})

    async def chat_ended(self, event: dict) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        await self._send_backlog()
        await self.send_json(self._ended_frame(event["status"], event["reason"], event["by_side"]))

    def _hello(self, conversation: Conversation) -> dict:
        return {
            "type": "hello",
            "partner": conversation.partner_alias_for(self.side),
            "status": "active" if conversation.is_active else "ended",
            "seconds_left": conversation.seconds_left() if conversation.is_active else 0,
            "max_chars": conversation.competition.max_message_chars,
            "turns_left": max(0, conversation.competition.max_turns - conversation.last_seq),
            "your_turn_first": conversation.first_speaker == self.side,
            "last_seq": conversation.last_seq,
        }

    def _ended_frame(self, status: str, reason: str, by_side: str) -> dict:
        """A bot that failed looks exactly like a human partner who left."""
        reasons = Conversation.EndReason
        if reason in (reasons.LEFT, reasons.MODERATION) and by_side == self.side:
            shown = "left"
        elif reason in (reasons.TIME, reasons.TURNS):
            shown = reason
        else:
            shown = "partner_left"
        return {
            "type": "ended",
            "reason": shown,
            "judge_url": reverse("chat-judge", kwargs={"public_id": self.public_id}),
        }

    async def _error(self, code: str, message: str, **extra) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **extra})


async def chat_sockets_resync() -> None:
    """Every open chat socket of this process fetches the messages it missed (chat/layer_watch.py)."""
    sockets = list(_open_sockets)
    results = await asyncio.gather(*(socket._send_backlog() for socket in sockets), return_exceptions=True)
    failed = [result for result in results if isinstance(result, Exception)]
    if failed:
        quiet_log.warning(
            "chat-resync",
            "%s of %s chat sockets could not fetch what they missed",
            len(failed),
            len(sockets),
            error=failed[0],
        )
