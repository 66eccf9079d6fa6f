"""Plays bot chats and human–human chats through the real ASGI app and records what the evaluator's browser sees.

Used by tests/blinding/ and by bench/blinding_audit.py. Every participant is a scripted person with a keyboard:
it reads, types (its ``typing`` frames follow chat.presence.simulate_browser_turn with *its own* parameters,
not the platform's defaults, so that a bot can only look like it by playing recorded timings), and sends. The
evaluator is scripted the same way in both kinds of chat; only its partner differs. Run with a small
CHAT_PRESENCE_TIME_SCALE: every scripted duration is multiplied by it too.
"""

import asyncio
import json
import math
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import timezone

from chat.models import Conversation, PartnerKind
from chat.presence import simulate_browser_turn

# The scripted people: slower readers and typists than the platform's default profile, so a bot that played the
# default instead of the recorded timings would be told apart.
HUMAN_READ_MEDIAN_S = 3.0
HUMAN_CHARS_PER_S = 2.6
HUMAN_LEAVE_MEDIAN_S = 5.0
WORDS = ("well", "sure", "maybe", "today", "coffee", "rain", "music", "really", "think", "weekend", "city", "yes")


def message_length(rng: random.Random, max_chars: int) -> int:
    """What people (and the test bot) write: mostly short, sometimes long, never over the limit."""
    return max(2, min(max_chars, round(math.exp(rng.gauss(math.log(28), 0.6)))))


def text_of(length: int, rng: random.Random) -> str:
    words = []
    while sum(len(w) + 1 for w in words) < length:
        words.append(rng.choice(WORDS))
    return " ".join(words)[:length].strip() or "ok"


@contextmanager
def talking_bot(*, seed: int = 0) -> Iterator[str]:
    """A bot endpoint on loopback answering at once with text of human-like lengths; its base URL.

    ``<url>/fail`` answers 500 (the turn fails twice and the chat ends as bot-failed).
    """
    rng = random.Random(seed)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
            if self.path.strip("/") == "fail":
                body, status = b"boom", 500
            else:
                with lock:
                    reply = text_of(message_length(rng, payload.get("max_chars") or 300), rng)
                body, status = json.dumps({"reply": reply}).encode(), 200
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class Socket:
    """A browser's websocket: every frame it receives is kept with its arrival time."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.frames: list[tuple[float, dict]] = []
        self.arrived = asyncio.Event()
        self.reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, user, conversation) -> "Socket":
        from hulic.asgi import application

        cookie = await database_sync_to_async(_session_cookie)(user)
        communicator = WebsocketCommunicator(
            application,
            f"/ws/chat/{conversation.public_id}/",
            headers=[
                (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
                (b"origin", b"http://localhost"),
                (b"host", b"localhost"),
            ],
        )
        connected, _ = await communicator.connect(timeout=10)
        assert connected
        return cls(communicator)

    async def _read(self) -> None:
        while True:
            try:
                frame = await self.communicator.receive_json_from(timeout=120)
            except (TimeoutError, AssertionError):
                return
            self.frames.append((time.time(), frame))
            self.arrived.set()

    async def next_frame(self, predicate, *, start: int, timeout: float = 30.0) -> tuple[int, dict]:
        """The first frame at index >= start matching ``predicate``: (index, frame)."""
        deadline = time.monotonic() + timeout
        while True:
            for index in range(start, len(self.frames)):
                if predicate(self.frames[index][1]):
                    return index, self.frames[index][1]
            start = len(self.frames)
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), timeout=max(0.01, deadline - time.monotonic()))
            except TimeoutError as error:
                raise TimeoutError(f"no such frame; the last ones: {[f for _, f in self.frames[-3:]]}") from error

    async def send(self, frame: dict) -> None:
        await self.communicator.send_json_to(frame)

    async def close(self) -> None:
        self.reader.cancel()
        await self.communicator.disconnect()


@dataclass
class Person:
    """A scripted person at a keyboard: reads, types (typing frames as the chat page sends them), sends."""

    socket: Socket
    rng: random.Random
    scale: float
    max_chars: int
    sent: int = 0
    sent_at: list[float] = field(default_factory=list)

    async def write(self, *, since: float) -> None:
        length = message_length(self.rng, self.max_chars)
        turn = simulate_browser_turn(
            chars=length,
            rng=self.rng,
            scale=self.scale,
            read_median_s=HUMAN_READ_MEDIAN_S,
            chars_per_s_median=HUMAN_CHARS_PER_S,
        )
        at = since + turn.read_s
        for interval in (0.0, *turn.intervals_s):
            at += interval
            await asyncio.sleep(max(0.0, at - time.time()))
            await self.socket.send({"type": "typing"})
        await asyncio.sleep(max(0.0, at + turn.gap_s - time.time()))
        self.sent += 1
        self.sent_at.append(time.time())
        await self.socket.send({"type": "message", "client_msg_id": f"m{self.sent}", "text": text_of(length, self.rng)})

    async def leave_after(self, *, since: float) -> None:
        await asyncio.sleep(
            max(0.0, since + self.rng.lognormvariate(math.log(HUMAN_LEAVE_MEDIAN_S), 0.5) * self.scale - time.time())
        )
        await self.socket.send({"type": "leave"})


def _is_partner_message(frame: dict) -> bool:
    return frame["type"] == "message" and frame["from"] == "partner"


def _is_own_message(frame: dict) -> bool:
    return frame["type"] == "message" and frame["from"] == "me"


@dataclass
class Observed:
    """One chat as the evaluator's browser saw it."""

    kind: str  # the truth, for the tests and the attacker's labels
    hello: dict
    frames: list[tuple[float, dict]]
    sent_at: list[float]  # when the evaluator sent each of its messages
    ending: str  # "evaluator_left" or "partner_left"
    conversation: Conversation


async def _evaluator_script(evaluator: Person, hello: dict, *, exchanges: int, partner_leaves: bool) -> str:
    socket = evaluator.socket
    cursor = 0
    since = time.time()
    if not hello["your_turn_first"]:
        cursor, _ = await socket.next_frame(_is_partner_message, start=0)
        since = socket.frames[cursor][0]
    for exchange in range(exchanges):
        await evaluator.write(since=since)
        cursor, _ = await socket.next_frame(_is_own_message, start=cursor)
        last = exchange == exchanges - 1
        if last and partner_leaves:
            await socket.next_frame(lambda f: f["type"] == "ended", start=cursor)
            return "partner_left"
        cursor, _ = await socket.next_frame(_is_partner_message, start=cursor + 1)
        since = socket.frames[cursor][0]
    # People leave alike whatever their reason: the platform records every leaving as one population.
    await evaluator.leave_after(since=since)
    await socket.next_frame(lambda f: f["type"] == "ended", start=cursor)
    return "evaluator_left"


async def _human_partner_script(partner: Person, hello: dict, *, leaves_after: int | None) -> None:
    """Answers every message of the evaluator; with ``leaves_after``, goes quiet after that many and leaves."""
    socket = partner.socket
    cursor = 0
    if hello["your_turn_first"]:
        await partner.write(since=time.time())
    answered = 0
    while True:
        try:
            cursor, frame = await socket.next_frame(
                lambda f: _is_partner_message(f) or f["type"] == "ended", start=cursor, timeout=60
            )
        except TimeoutError:
            return
        if frame["type"] == "ended":
            return
        since = socket.frames[cursor][0]
        cursor += 1
        if leaves_after is not None and answered >= leaves_after:
            await partner.leave_after(since=since)
            return
        await partner.write(since=since)
        answered += 1


@database_sync_to_async
def _new_chat(*, competition, evaluator, partner, bot, rng: random.Random, first_speaker=None) -> Conversation:
    from chat.services.matchmaking import ALIASES

    alias_a, alias_b = rng.sample(ALIASES, 2)
    now = timezone.now()
    fields = {"partner_kind": PartnerKind.BOT, "bot": bot} if bot else {"partner_kind": PartnerKind.HUMAN}
    return Conversation.objects.create(
        competition=competition,
        language="en",
        alias_a=alias_a,
        alias_b=alias_b,
        first_speaker=first_speaker or rng.choice("ab"),
        started_at=now,
        deadline_at=now + timedelta(seconds=competition.chat_time_limit_seconds),
        evaluator_a=evaluator,
        evaluator_b=partner,
        **fields,
    )


async def play_chat(
    *, competition, evaluator_user, partner_user=None, bot=None, seed: int, scale: float, exchanges: int = 3,
    partner_leaves: bool = False, first_speaker: str | None = None,
) -> Observed:  # fmt: skip
    """One chat, evaluator on side a; its partner a scripted person (``partner_user``) or ``bot``.

    With ``partner_leaves``, the partner goes quiet after the evaluator's last message: a person leaves after a
    while; the bot is expected to fail (point it at a failing endpoint) and should end the chat the same way.
    """
    rng = random.Random(seed)
    conversation = await _new_chat(
        competition=competition, evaluator=evaluator_user, partner=partner_user, bot=bot, rng=rng,
        first_speaker=first_speaker,
    )  # fmt: skip
    max_chars = competition.max_message_chars
    partner_task = None
    partner_socket = None
    # Both pages open at about the same time (a bot's opening counts from the evaluator's page opening).
    if partner_user is not None:
        socket, partner_socket = await asyncio.gather(
            Socket.open(evaluator_user, conversation), Socket.open(partner_user, conversation)
        )
        partner = Person(partner_socket, random.Random(seed + 1), scale, max_chars)
        partner_hello = (await partner_socket.next_frame(lambda f: f["type"] == "hello", start=0))[1]
        leaves_after = exchanges - 1 if partner_leaves else None
        partner_task = asyncio.get_running_loop().create_task(
            _human_partner_script(partner, partner_hello, leaves_after=leaves_after)
        )
    else:
        socket = await Socket.open(evaluator_user, conversation)
    evaluator = Person(socket, random.Random(seed + 2), scale, max_chars)
    hello = (await socket.next_frame(lambda f: f["type"] == "hello", start=0))[1]
    try:
        ending = await _evaluator_script(evaluator, hello, exchanges=exchanges, partner_leaves=partner_leaves)
    finally:
        await socket.close()
        if partner_task is not None:
            await asyncio.wait({partner_task}, timeout=30)
            partner_task.cancel()
            await partner_socket.close()
    return Observed(
        kind="human" if partner_user is not None else "bot",
        hello=hello,
        frames=socket.frames,
        sent_at=evaluator.sent_at,
        ending=ending,
        conversation=conversation,
    )


def timings(observed: Observed) -> dict[str, list[float]]:
    """The evaluator's stopwatch: per partner turn, the delays a person can time from their own browser."""
    out = {"first_typing": [], "typing_interval": [], "last_typing_to_message": [], "typing_frames": [],
           "partner_chars": [], "to_ending": []}  # fmt: skip
    frames = observed.frames
    start = frames[0][0]
    reference = start
    typing: list[float] = []
    for at, frame in frames:
        if _is_own_message(frame):
            reference, typing = at, []
        elif frame["type"] == "typing":
            if not typing:
                out["first_typing"].append(at - reference)
            else:
                out["typing_interval"].append(at - typing[-1])
            typing.append(at)
        elif _is_partner_message(frame):
            if typing:
                out["last_typing_to_message"].append(at - typing[-1])
            out["typing_frames"].append(float(len(typing)))
            out["partner_chars"].append(float(len(frame["text"])))
            reference, typing = at, []
        elif frame["type"] == "ended" and observed.ending == "partner_left":
            out["to_ending"].append(at - observed.sent_at[-1])
    return out


def shape(value):
    """A frame's keys and value types, recursively: what must not depend on the partner's kind."""
    if isinstance(value, dict):
        return tuple(sorted((key, shape(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("list", tuple(sorted({shape(item) for item in value}, key=repr)))
    return type(value).__name__
