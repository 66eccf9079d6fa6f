"""Websocket load: many human–human chats relayed by one HuLiC server process, every message persisted.

    .venv/bin/python bench/ws_load.py [--chats 1000 --rate 400 --duration 20]
    .venv/bin/python bench/ws_load.py --chats 5 --rate 10 --duration 2      # smoke check
    .venv/bin/python bench/ws_load.py --mode three-party [--games 500 --rate 400 --duration 20]

What it does, all on loopback with bounded durations:
1. Creates and migrates the benchmark database, then writes users (each with a logged-in Django
   session), a competition and N human–human Conversations straight through the ORM.
2. Starts the real server, `uvicorn hulic.asgi:application`, as a subprocess with the Redis pub/sub
   channel layer and Postgres (the production shape), the chat rate limit raised out of the way.
3. Opens two websockets per chat (`sessionid` cookie, same-origin `Origin`), waits for every `hello`,
   then sends `message` frames at the target total rate spread round-robin over the chats, sides
   alternating. Relay latency = the partner's receipt of the `message` frame − the first send time.
   Like chat.js, the client resends an unacked message with the same client_msg_id after a timeout
   (and after retry_after_ms when the server answered `busy`), and reconnects a socket the server
   closed with `?last_seq=` so the server replays what it missed.
   A delivery after the phase's grace period is *late* (a backlog draining); a message acked (saved)
   but never delivered by the end of the final drain is *lost*: that is silent loss, and must be 0.
4. Checks the database: one Message row per acked message, none extra.
5. Saturation: the same at a multiple of the rate for a few seconds, to show that past capacity the
   server pushes back visibly (`busy` answers that the client resends; late acks, higher latency)
   rather than dropping acked messages.
6. The floor: the same load against bench/bare_relay.py (plain `websockets`, no Django/Redis/DB),
   and the ratio of the two p99s.

--mode three-party (`--games 500 --rate 400`): three-party games instead (docs/three-party.md), seeded as
chat.services.games starts them: per game the interrogator's two sockets and the human witness's one. In turn
the interrogator asks the witness, the witness answers, the interrogator asks the bot; each message to the bot
is answered by a bot turn through the real path (claim, signed webhook call, reply saved and broadcast) to
bench/bench_bot.py, the sample bots' signed webhook server with a recording responder. People send ¾ of the
rate and the bot's answers make the rest. Deliveries: a person's message to their partner's socket, a message
to the bot's webhook (when the bot first saw it), and the bot's answer from the bot to the interrogator's
socket (all on CLOCK_MONOTONIC, shared by the processes). Lost: acked and never seen by the partner or the bot,
or sent to the bot with no answer shown after it (an answer covers every earlier message of its chat); an answer
the platform dropped because a later call answered instead is counted as superseded. Duplicated: shown twice.
The server runs with CHAT_PRESENCE_TIME_SCALE 0 and CHAT_BOT_DELAY_MAX_MS 0, so the figures are the platform's,
not the human-like pacing. Then, on the same server, two-party chats with the same number of sockets at the same
rate, printed beside it (the comparison that tells the machine's load from the three-party path's own cost). No
saturation phase, no bare relay.

The load client shares the 2 cores with the server; its own CPU use and how late it sent against
its schedule are printed so that a client-bound run can be told from a server-bound one.
"""

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from statistics import quantiles

import psutil
import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hulic_bench_ws"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
BENCH_SLUG = "bench-ws"
USER_PREFIX = "benchws-"
P99_TARGET_MS = 25.0


# --------------------------------------------------------------------------------------------------
# The load client: plain asyncio + websockets, no Django, so it runs against HuLiC or the bare relay.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatTarget:
    room: str
    cookies: tuple[str, str | None] | None  # sessionid of side a, side b; None for the bare relay
    bot: bool = False  # side b is a bot (no socket): a three-party game's bot pane


# Who speaks in turn, per group of chats: a two-party chat's sides alternate; a game's interrogator asks the human
# witness, the witness answers, the interrogator asks the bot (whose answer comes through its webhook).
TWO_PARTY_PLAN = ((0, "a"), (0, "b"))
THREE_PARTY_PLAN = ((0, "a"), (0, "b"), (1, "a"))


@dataclass
class Sent:
    phase: str
    chat: int
    side: str
    client_msg_id: str
    text_key: str
    first_sent_ns: int
    last_sent_ns: int
    attempts: int = 1
    busy: int = 0  # `busy` answers (the server shed the message; resent after retry_after_ms)
    retry_at_ns: int | None = None
    acked_ns: int | None = None
    received_ns: int | None = None
    receipts: int = 0
    to_bot: bool = False  # delivered when the bot's webhook saw it (bench_bot.py's records)
    number: int = 0  # order of sending, over every chat


@dataclass
class BotReply:
    """A bot's answer as the interrogator's pane got it; matched after the run with the bot's records."""

    key: str  # the text key of the message answered
    received_ns: int
    receipts: int = 1
    left_bot_ns: int | None = None  # when the bot's answer left it
    calls: int = 0  # webhook calls that answered this message (more than one: a turn ran twice)


@dataclass
class PhaseResult:
    name: str
    target_rate: float
    duration: float
    sent: list[Sent] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    send_lag_ms: list[float] = field(default_factory=list)
    closed_ns: int = 0  # end of the phase's grace period; later receipts count as late
    bot_replies: list[BotReply] = field(default_factory=list)
    # Acked messages to the bot that no answer shown to the interrogator covers (an answer covers the message it
    # answers and every earlier one of its chat): the bot side's silent loss.
    unanswered: list[Sent] = field(default_factory=list)
    # Answers the bot gave that the platform did not show because a later call answered instead (a claim taken
    # over after CHAT_BOT_TURN_LEASE_SECONDS without a heartbeat, or a retried call): superseded, not lost.
    bot_answers_superseded: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    server_cpu_seconds: float | None = None

    @property
    def acked(self) -> list[Sent]:
        return [m for m in self.sent if m.acked_ns is not None]

    @property
    def on_time(self) -> list[Sent]:
        return [m for m in self.sent if m.received_ns is not None and m.received_ns <= self.closed_ns]

    @property
    def late(self) -> list[Sent]:
        return [m for m in self.sent if m.received_ns is not None and m.received_ns > self.closed_ns]

    @property
    def latencies_ms(self) -> list[float]:
        """Every delivery: a person's message to their partner's socket or to the bot's webhook, and a bot's answer
        from its webhook to the interrogator's socket."""
        return (
            self.relay_latencies_ms(to_bot=False) + self.relay_latencies_ms(to_bot=True) + self.bot_reply_latencies_ms
        )

    def relay_latencies_ms(self, *, to_bot: bool) -> list[float]:
        return [
            (m.received_ns - m.first_sent_ns) / 1e6
            for m in self.sent
            if m.received_ns is not None and m.to_bot == to_bot
        ]

    @property
    def bot_reply_latencies_ms(self) -> list[float]:
        return [(r.received_ns - r.left_bot_ns) / 1e6 for r in self.bot_replies if r.left_bot_ns is not None]

    @property
    def ack_latencies_ms(self) -> list[float]:
        return [(m.acked_ns - m.first_sent_ns) / 1e6 for m in self.sent if m.acked_ns is not None]

    @property
    def lost(self) -> list[Sent]:
        """Saved (acked) but never delivered to the partner, even after the final drain: silent loss."""
        return [m for m in self.acked if m.received_ns is None]

    @property
    def duplicates(self) -> int:
        return sum(max(0, m.receipts - 1) for m in self.sent) + sum(max(0, r.receipts - 1) for r in self.bot_replies)

    @property
    def lost_count(self) -> int:
        return len({m.client_msg_id for m in self.lost} | {m.client_msg_id for m in self.unanswered})

    @property
    def resends(self) -> int:
        return sum(m.attempts - 1 for m in self.sent)

    @property
    def busy_answers(self) -> int:
        return sum(m.busy for m in self.sent)


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return quantiles(values, n=100, method="inclusive")[q - 1]


# Digits in the text would be read as leetspeak by the chat's moderation filter and masked on delivery;
# these letters spell none of its vowel-less terms ("fck", "sht", "btch", "wtf").
TEXT_KEY_LETTERS = "bdgjpqvwxz"


def text_key(number: int) -> str:
    """The message's number written with TEXT_KEY_LETTERS, so the partner's copy identifies it."""
    letters = ""
    while True:
        number, digit = divmod(number, len(TEXT_KEY_LETTERS))
        letters = TEXT_KEY_LETTERS[digit] + letters
        if number == 0:
            return letters


class LoadClient:
    """Holds two sockets per chat and runs timed send phases over them.

    Every message ever sent stays registered, so a delivery that arrives after its phase (a backlog
    draining) is still matched to it: late, not lost.
    """

    def __init__(
        self,
        *,
        base_url: str,
        origin: str,
        chats: list[ChatTarget],
        ack_timeout: float,
        max_attempts: int,
        plan: tuple[tuple[int, str], ...] = TWO_PARTY_PLAN,
        connect_concurrency: int = 64,
    ):
        self.base_url = base_url
        self.origin = origin
        self.chats = chats
        self.plan = plan
        self.group_size = 1 + max(offset for offset, _ in plan)
        self.sent_per_group: Counter = Counter()
        self.bot_replies: dict[str, BotReply] = {}
        self.ack_timeout = ack_timeout
        self.max_attempts = max_attempts
        self.connect_concurrency = connect_concurrency
        self.sockets: dict[tuple[int, str], ClientConnection] = {}
        self.readers: list[asyncio.Task] = []
        self.resender: asyncio.Task | None = None
        self.closed: Counter = Counter()
        self.errors: Counter = Counter()  # of the running phase; swapped per phase
        self.by_client_id: dict[str, Sent] = {}
        self.by_text_key: dict[str, Sent] = {}
        self.sent_per_chat: Counter = Counter()
        self.last_seq: Counter = Counter()  # (chat, side) -> highest seq seen, for resuming
        self.reconnects = 0
        self.closing = False

    async def _connect(self, index: int, side: str) -> ClientConnection:
        """One socket, resuming after the last seq it saw (as chat.js does), up to its `hello`."""
        chat = self.chats[index]
        headers = {}
        if chat.cookies is not None:
            headers["Cookie"] = f"sessionid={chat.cookies[0 if side == 'a' else 1]}"
        socket_ = await connect(
            f"{self.base_url}/ws/chat/{chat.room}/?last_seq={self.last_seq[index, side]}",
            origin=self.origin,
            additional_headers=headers,
            open_timeout=60,
            ping_interval=None,
            max_queue=None,
            compression=None,
        )
        first = json.loads(await asyncio.wait_for(socket_.recv(), timeout=60))
        if first.get("type") != "hello":
            raise RuntimeError(f"chat {index} side {side}: expected hello, got {first}")
        self.sockets[index, side] = socket_
        return socket_

    async def open(self, timeout: float = 180.0) -> None:
        gate = asyncio.Semaphore(self.connect_concurrency)

        async def open_one(index: int, side: str) -> None:
            async with gate:
                socket_ = await self._connect(index, side)
            self.readers.append(asyncio.create_task(self._read(index, side, socket_)))

        # Side a of every chat first, then side b: the bare relay assigns sides by arrival order.
        await asyncio.wait_for(asyncio.gather(*(open_one(i, "a") for i in range(len(self.chats)))), timeout)
        humans_b = [i for i, chat in enumerate(self.chats) if not chat.bot]
        await asyncio.wait_for(asyncio.gather(*(open_one(i, "b") for i in humans_b)), timeout)
        self.resender = asyncio.create_task(self._resend_loop())

    @property
    def open_sockets(self) -> int:
        return sum(1 for s in self.sockets.values() if s.close_code is None)

    async def close(self) -> None:
        self.closing = True
        if self.resender is not None:
            self.resender.cancel()
        await asyncio.gather(*(s.close() for s in self.sockets.values()), return_exceptions=True)
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)

    async def _read(self, index: int, side: str, socket_: ClientConnection) -> None:
        """Reads one socket; when the server closes it, reconnects with last_seq like the browser."""
        while True:
            try:
                async for raw in socket_:
                    self._on_frame(index, side, json.loads(raw))
            except ConnectionClosed:
                pass
            if self.closing:
                return
            self.closed[socket_.close_code if socket_.close_code is not None else "abnormal"] += 1
            await asyncio.sleep(0.5 + random.random())
            try:
                socket_ = await self._connect(index, side)
            except (OSError, TimeoutError, ConnectionClosed, RuntimeError):
                self.closed["reconnect_failed"] += 1
                continue
            self.reconnects += 1

    def _on_frame(self, index: int, side: str, frame: dict) -> None:
        now = time.perf_counter_ns()
        kind = frame.get("type")
        if kind == "message" and isinstance(frame.get("seq"), int):
            self.last_seq[index, side] = max(self.last_seq[index, side], frame["seq"])
        if kind == "ack":
            sent = self.by_client_id.get(frame.get("client_msg_id", ""))
            if sent is not None and sent.acked_ns is None:
                sent.acked_ns = now
        elif kind == "message" and frame.get("from") == "partner" and self.chats[index].bot:
            key = frame.get("text", "").rsplit(" ", 1)[-1]
            reply = self.bot_replies.get(key)
            if reply is None:
                self.bot_replies[key] = BotReply(key=key, received_ns=now)
            else:
                reply.receipts += 1
        elif kind == "message" and frame.get("from") == "partner":
            # The partner's copy carries no client_msg_id (docs/chat-protocol.md); the text does.
            sent = self.by_text_key.get(frame.get("text", "").rsplit(" ", 1)[-1])
            if sent is None:
                self.errors["unknown_message"] += 1
                return
            sent.receipts += 1
            if sent.received_ns is None:
                sent.received_ns = now
        elif kind == "error":
            self.errors[frame.get("code", "error")] += 1
            sent = self.by_client_id.get(frame.get("client_msg_id", ""))
            if frame.get("code") == "busy" and sent is not None and sent.acked_ns is None:
                sent.busy += 1
                sent.retry_at_ns = now + int(frame.get("retry_after_ms", 1000) * 1e6)
        elif kind == "ended":
            self.errors[f"ended:{frame.get('reason')}"] += 1

    async def _send(self, sent: Sent) -> None:
        socket_ = self.sockets[sent.chat, sent.side]
        frame = {"type": "message", "client_msg_id": sent.client_msg_id, "text": f"hello there {sent.text_key}"}
        try:
            await socket_.send(json.dumps(frame))
        except ConnectionClosed:
            self.errors["send_on_closed"] += 1

    async def _resend_loop(self) -> None:
        """What the browser does: `busy` → the same client_msg_id again after retry_after_ms; no ack in time →
        again, backing off."""
        while True:
            await asyncio.sleep(min(0.2, self.ack_timeout / 4))
            now = time.perf_counter_ns()
            for sent in list(self.by_client_id.values()):
                if sent.acked_ns is not None:
                    continue
                if sent.retry_at_ns is not None:
                    if now >= sent.retry_at_ns:
                        sent.retry_at_ns = None
                        sent.last_sent_ns = now
                        await self._send(sent)
                    continue
                if sent.attempts >= self.max_attempts:
                    continue
                if (now - sent.last_sent_ns) / 1e9 > self.ack_timeout * sent.attempts:
                    sent.attempts += 1
                    sent.last_sent_ns = now
                    await self._send(sent)

    def _settled(self, messages: list[Sent]) -> bool:
        """Every message saved and delivered (a bot's receipt is read from its records after the run)."""
        return all(m.acked_ns is not None and (m.to_bot or m.received_ns is not None) for m in messages)

    async def run_phase(
        self, *, name: str, rate: float, duration: float, grace: float, server_pid: int | None
    ) -> PhaseResult:
        """Sends rate × duration messages on schedule, round-robin over chats, then waits up to `grace`."""
        phase = PhaseResult(name=name, target_rate=rate, duration=duration)
        self.errors = phase.errors
        me = psutil.Process()
        server = psutil.Process(server_pid) if server_pid else None
        cpu_before = sum(me.cpu_times()[:2])
        server_cpu_before = sum(server.cpu_times()[:2]) if server else 0.0
        total = max(1, round(rate * duration))
        started = time.perf_counter()
        for n in range(total):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                phase.send_lag_ms.append(-delay * 1000)
            group = n % (len(self.chats) // self.group_size)
            offset, side = self.plan[self.sent_per_group[group] % len(self.plan)]
            self.sent_per_group[group] += 1
            index = group * self.group_size + offset
            count = self.sent_per_chat[index]
            self.sent_per_chat[index] += 1
            now = time.perf_counter_ns()
            sent = Sent(
                phase=name,
                chat=index,
                side=side,
                client_msg_id=f"{name}-{index}-{count}-{now}",
                text_key=text_key(len(self.by_text_key)),
                number=len(self.by_text_key),
                first_sent_ns=now,
                last_sent_ns=now,
                to_bot=self.chats[index].bot,
            )
            phase.sent.append(sent)
            self.by_client_id[sent.client_msg_id] = sent
            self.by_text_key[sent.text_key] = sent
            await self._send(sent)
        deadline = time.perf_counter() + grace
        while time.perf_counter() < deadline and not self._settled(phase.sent):
            await asyncio.sleep(0.1)
        phase.closed_ns = time.perf_counter_ns()
        phase.wall_seconds = time.perf_counter() - started
        phase.client_cpu_seconds = sum(me.cpu_times()[:2]) - cpu_before
        if server:
            phase.server_cpu_seconds = sum(server.cpu_times()[:2]) - server_cpu_before
        return phase

    async def drain(self, timeout: float, bot_records_url: str | None = None) -> float:
        """After the last phase: wait for the backlog (late acks, resends, deliveries, and every answer the bot
        gave); returns seconds waited."""
        self.errors = Counter()
        started = time.perf_counter()
        messages = list(self.by_client_id.values())
        while time.perf_counter() - started < timeout:
            if self._settled(messages) and (bot_records_url is None or not self._unanswered(messages)):
                break
            await asyncio.sleep(0.2)
        return time.perf_counter() - started

    def _unanswered(self, messages: list[Sent]) -> list[Sent]:
        """Acked messages to a bot that come after the last answer shown in their chat."""
        covered: dict[int, int] = {}  # chat -> number of the latest message an answer shown there answers
        for key in self.bot_replies:
            sent = self.by_text_key.get(key)
            if sent is not None:
                covered[sent.chat] = max(covered.get(sent.chat, -1), sent.number)
        return [m for m in messages if m.to_bot and m.acked_ns is not None and m.number > covered.get(m.chat, -1)]

    def match_bot_records(self, records: dict, phases: list[PhaseResult]) -> None:
        """Deliveries to the bot (its first sight of each message) and its answers, from its records."""
        by_name = {phase.name: phase for phase in phases}
        for key, seen_ns in records["seen"].items():
            sent = self.by_text_key.get(key)
            if sent is not None and sent.to_bot:
                sent.received_ns, sent.receipts = seen_ns, 1
        for key, left in records["replies"].items():
            sent = self.by_text_key.get(key)
            phase = by_name.get(sent.phase) if sent is not None else None
            if phase is None:
                continue
            reply = self.bot_replies.get(key)
            if reply is None:
                phase.bot_answers_superseded.append(key)
                continue
            reply.left_bot_ns, reply.calls = left[0], len(left)
            phase.bot_replies.append(reply)
        for phase in phases:
            phase.unanswered = self._unanswered(phase.sent)


def fetch_bot_records(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 -- the bench bot on loopback
        return json.loads(response.read())


# --------------------------------------------------------------------------------------------------
# HuLiC side: database, sessions, server subprocess.
# --------------------------------------------------------------------------------------------------


def create_database(database_url: str) -> None:
    import dj_database_url
    import psycopg2

    config = dj_database_url.parse(database_url)
    admin = psycopg2.connect(
        dbname="postgres", user=config["USER"], password=config["PASSWORD"], host=config["HOST"], port=config["PORT"]
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
    admin.close()


def setup_django(*, database_url: str, redis_url: str, secret_key: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ["SECRET_KEY"] = secret_key
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hulic.settings")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def seed_reset() -> None:
    """Migrates, then removes an earlier run's competition, users and sessions."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.models import Session
    from django.core.management import call_command

    from chat.models import Conversation, Game
    from competitions.models import Competition, Team

    call_command("migrate", verbosity=0)
    Game.objects.filter(competition__slug=BENCH_SLUG).delete()
    Conversation.objects.filter(competition__slug=BENCH_SLUG).delete()
    Competition.objects.filter(slug=BENCH_SLUG).delete()
    Team.objects.filter(slug=BENCH_SLUG).delete()
    get_user_model().objects.filter(username__startswith=USER_PREFIX).delete()
    Session.objects.all().delete()


def seed_competition():
    from competitions.models import Competition

    return Competition.objects.create(
        slug=BENCH_SLUG,
        title="Websocket benchmark",
        phase=Competition.Phase.EVALUATION,
        mode="both",
        chat_time_limit_seconds=3600,
        max_turns=1_000_000,
        max_message_chars=300,
        control_chat_share=1.0,
    )


def seed_people(competition, count: int, prefix: str) -> tuple[list, list[str]]:
    """``count`` ready evaluators, each with a logged-in session; returns them and their session keys."""
    from datetime import timedelta

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from chat.models import Evaluator

    now = timezone.now()
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"{USER_PREFIX}{prefix}{n}", password=make_password(None)) for n in range(count)]
    )
    Evaluator.objects.bulk_create(
        [Evaluator(competition=competition, user=u, consented_at=now, onboarding_passed_at=now) for u in users]
    )
    store = SessionStore()
    session_keys = []
    sessions = []
    for user in users:
        key = secrets.token_hex(16)
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=now + timedelta(days=1)))
        session_keys.append(key)
    Session.objects.bulk_create(sessions)
    return users, session_keys


def seed_chats(competition, count: int) -> list[ChatTarget]:
    """``count`` human–human conversations, via bulk_create."""
    from datetime import timedelta

    from django.utils import timezone

    from chat.models import Conversation, PartnerKind

    users, keys = seed_people(competition, 2 * count, "c")
    deadline = timezone.now() + timedelta(hours=1)
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                competition=competition,
                language="en",
                partner_kind=PartnerKind.HUMAN,
                evaluator_a=users[2 * n],
                evaluator_b=users[2 * n + 1],
                alias_a="Partner",
                alias_b="Partner",
                first_speaker="a",
                deadline_at=deadline,
            )
            for n in range(count)
        ]
    )
    return [
        ChatTarget(room=str(c.public_id), cookies=(keys[2 * n], keys[2 * n + 1])) for n, c in enumerate(conversations)
    ]


def seed_games(competition, count: int, *, bots: int, bot_url: str, bot_secret: str) -> list[ChatTarget]:
    """``count`` three-party games (an interrogator, a human witness, one of ``bots`` live bots that all answer
    at ``bot_url``), as chat.services.games starts them; returns the human pane and the bot pane of each game."""
    from datetime import timedelta

    from django.utils import timezone

    from chat.models import Conversation, Game, PartnerKind
    from competitions.models import Bot, Team

    team = Team.objects.create(name="Websocket benchmark bots", slug=BENCH_SLUG)
    live_bots = Bot.objects.bulk_create(
        [
            Bot(
                team=team,
                competition=competition,
                name=f"bench bot {n}",
                endpoint_url=bot_url,
                signing_secret=bot_secret,
                status=Bot.Status.VERIFIED,
            )
            for n in range(bots)
        ]
    )
    users, keys = seed_people(competition, 2 * count, "g")
    now = timezone.now()
    deadline = now + timedelta(hours=1)

    def conversation(n: int, **fields) -> Conversation:
        return Conversation(
            competition=competition,
            language="en",
            evaluator_a=users[2 * n],
            alias_a="Maple",
            first_speaker="a",
            started_at=now,
            deadline_at=deadline,
            **fields,
        )

    human = Conversation.objects.bulk_create(
        [
            conversation(n, partner_kind=PartnerKind.HUMAN, evaluator_b=users[2 * n + 1], alias_b="River")
            for n in range(count)
        ]
    )
    with_bot = Conversation.objects.bulk_create(
        [conversation(n, partner_kind=PartnerKind.BOT, bot=live_bots[n % bots], alias_b="Cedar") for n in range(count)]
    )
    Game.objects.bulk_create(
        [
            Game(
                competition=competition,
                language="en",
                interrogator=users[2 * n],
                witness=users[2 * n + 1],
                bot=live_bots[n % bots],
                human_conversation=human[n],
                bot_conversation=with_bot[n],
                human_on_left=n % 2 == 0,
                started_at=now,
                deadline_at=deadline,
            )
            for n in range(count)
        ]
    )
    targets = []
    for n in range(count):
        targets.append(ChatTarget(room=str(human[n].public_id), cookies=(keys[2 * n], keys[2 * n + 1])))
        targets.append(ChatTarget(room=str(with_bot[n].public_id), cookies=(keys[2 * n], None), bot=True))
    return targets


def persisted_client_ids() -> set[str]:
    from chat.models import Message

    return set(
        Message.objects.filter(conversation__competition__slug=BENCH_SLUG).values_list("client_msg_id", flat=True)
    )


def persisted_bot_answers() -> Counter:
    """The message key each saved bot answer answers, counted (more than one: an answer saved twice)."""
    from chat.models import Message

    texts = Message.objects.filter(
        conversation__competition__slug=BENCH_SLUG, conversation__bot__isnull=False, side="b"
    )
    return Counter(text.rsplit(" ", 1)[-1] for text in texts.values_list("text", flat=True))


def bound_socket() -> socket.socket:
    """A listening socket on a free loopback port, handed to the server so that no port race is possible."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    listener.set_inheritable(True)
    return listener


def wait_until_serving(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer on port {port} within {timeout:.0f} s")


def start_hulic(
    *, database_url: str, redis_url: str, secret_key: str, app: str, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, int, str]:
    """The server as a subprocess on an inherited socket; returns it, its port and its log file."""
    listener = bound_socket()
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1",
        "CHAT_MESSAGES_PER_10S": "1000000",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "hulic.settings",
        **(extra_env or {}),
    }
    command = [str(Path(sys.executable).parent / "uvicorn"), app]
    command += ["--fd", str(listener.fileno()), "--no-access-log", "--lifespan", "off", "--log-level", "warning"]
    log = tempfile.NamedTemporaryFile(prefix="ws_load_server_", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, pass_fds=(listener.fileno(),), stdout=log, stderr=subprocess.STDOUT
    )
    listener.close()
    wait_until_serving(port, process)
    return process, port, log.name


def summarise_server_log(path: str) -> None:
    """The server's errors by kind, so that a failing run says why (the full log stays on disk)."""
    lines = Path(path).read_text(errors="replace").splitlines()
    kinds = Counter(
        line.split(":", 1)[0] for line in lines if re.match(r"^[A-Za-z_.]+(Error|Exception|Exit|Closed)\b", line)
    )
    print(f"\nserver log {path}: {len(lines)} lines; exceptions: {dict(kinds) or 'none'}")


def start_bench_bot(secret: str) -> tuple[subprocess.Popen, int]:
    """bench/bench_bot.py: the sample bots' signed webhook server with a recording responder."""
    process = subprocess.Popen(
        [sys.executable, str(BASE_DIR / "bench" / "bench_bot.py"), "--port", "0", "--secret", secret],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"the bench bot did not start: {line!r}")
    return process, int(line.rsplit(":", 1)[-1].strip("/\n "))


def start_bare_relay() -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen(
        [sys.executable, str(BASE_DIR / "bench" / "bare_relay.py"), "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"bare relay did not start: {line!r}")
    return process, int(line.split()[-1])


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --------------------------------------------------------------------------------------------------
# Running and reporting.
# --------------------------------------------------------------------------------------------------


def report_phase(
    phase: PhaseResult, *, persisted: set[str] | None = None, persisted_answers: Counter | None = None
) -> None:
    lat = phase.latencies_ms
    acked = phase.acked
    window = phase.duration
    print(f"\n== {phase.name}: target {phase.target_rate:g} msg/s for {phase.duration:g} s")
    print(
        f"  sent {len(phase.sent)} (+{phase.resends} resends of unacked ones), acked {len(acked)}, "
        f"unacked {len(phase.sent) - len(acked)}"
    )
    refused = sum(1 for m in phase.sent if m.busy)
    print(f"  back-pressure: {phase.busy_answers} `busy` answers, {refused} messages refused at least once and resent")
    print(
        f"  delivered to the partner: {len(phase.on_time)} within the phase, {len(phase.late)} late (backlog), "
        f"LOST (acked, never delivered) {len(phase.lost)}, duplicates {phase.duplicates}"
    )
    if phase.bot_replies or phase.bot_answers_superseded:
        twice = sum(1 for r in phase.bot_replies if r.calls > 1)
        print(
            f"  bot answers (webhook → interrogator): {len(phase.bot_replies)} delivered, messages to the bot LOST "
            f"(acked, no answer shown after them) {len(phase.unanswered)}; superseded answers (the bot answered, "
            f"a later call's answer was shown) {len(phase.bot_answers_superseded)}, answered by more than one call "
            f"{twice}"
        )
        for label, values in (
            ("person → person", phase.relay_latencies_ms(to_bot=False)),
            ("person → bot's webhook", phase.relay_latencies_ms(to_bot=True)),
            ("bot's answer → interrogator", phase.bot_reply_latencies_ms),
        ):
            print(
                f"    {label:28} n {len(values):6}  p50 {percentile(values, 50):6.1f}  "
                f"p99 {percentile(values, 99):6.1f}  max {max(values, default=float('nan')):.1f} ms"
            )
    print(f"  relayed on time ≈ {len(phase.on_time) / window:.0f} msg/s over the {window:g} s send window")
    print(
        f"  relay latency ms (all delivered): p50 {percentile(lat, 50):.1f}  p95 {percentile(lat, 95):.1f}  "
        f"p99 {percentile(lat, 99):.1f}  max {max(lat, default=float('nan')):.1f}"
    )
    ack = phase.ack_latencies_ms
    print(f"  ack (saved) latency ms: p50 {percentile(ack, 50):.1f}  p99 {percentile(ack, 99):.1f}")
    lag = phase.send_lag_ms
    print(
        f"  client: CPU {phase.client_cpu_seconds / phase.wall_seconds:.0%} of a core, "
        f"{len(lag)} sends behind schedule (max {max(lag, default=0):.1f} ms)"
    )
    if phase.server_cpu_seconds is not None:
        print(f"  server: CPU {phase.server_cpu_seconds / phase.wall_seconds:.0%} of a core")
    if phase.errors:
        print(f"  error frames / events: {dict(phase.errors)}")
    if persisted is not None:
        acked_ids = {m.client_msg_id for m in acked}
        phase_rows = {i for i in persisted if i.startswith(f"{phase.name}-")}
        print(
            f"  persisted: {len(phase_rows)} Message rows for {len(acked_ids)} acked "
            f"(acked but missing {len(acked_ids - phase_rows)}, saved but never acked {len(phase_rows - acked_ids)})"
        )
    if persisted_answers is not None and phase.bot_replies:
        keys = [r.key for r in phase.bot_replies]
        unsaved = sum(1 for k in keys if persisted_answers[k] == 0)
        twice = sum(1 for k in keys if persisted_answers[k] > 1)
        print(f"  persisted bot answers: {len(keys) - unsaved} of {len(keys)} shown, saved twice {twice}")


async def run_against(
    *,
    label: str,
    port: int,
    chats: list[ChatTarget],
    args: argparse.Namespace,
    server_pid: int,
    saturation: bool,
    plan: tuple[tuple[int, str], ...] = TWO_PARTY_PLAN,
    rate: float | None = None,
    bot_records_url: str | None = None,
    phase_prefix: str = "",
) -> list[PhaseResult]:
    rate = args.rate if rate is None else rate
    client = LoadClient(
        base_url=f"ws://127.0.0.1:{port}",
        origin=f"http://127.0.0.1:{port}",
        chats=chats,
        ack_timeout=args.ack_timeout,
        max_attempts=args.max_attempts,
        plan=plan,
    )
    server = psutil.Process(server_pid)
    started = time.perf_counter()
    await client.open()
    print(
        f"\n[{label}] {client.open_sockets} sockets open in {time.perf_counter() - started:.1f} s; "
        f"server RSS {server.memory_info().rss / 2**20:.0f} MiB"
    )
    # Not reported: first database connections per worker thread, the moderation lexicon, code paths.
    warmup = await client.run_phase(
        name=f"{phase_prefix}warmup", rate=min(rate, 50), duration=1, grace=args.grace, server_pid=None
    )
    phases = [
        await client.run_phase(
            name=f"{phase_prefix}steady", rate=rate, duration=args.duration, grace=args.grace, server_pid=server_pid
        )
    ]
    if saturation:
        phases.append(
            await client.run_phase(
                name=f"{phase_prefix}saturation",
                rate=rate * args.saturation_factor,
                duration=args.saturation_duration,
                grace=args.grace,
                server_pid=server_pid,
            )
        )
    waited = await client.drain(args.drain, bot_records_url)
    if bot_records_url is not None:
        client.match_bot_records(await asyncio.to_thread(fetch_bot_records, bot_records_url), [warmup, *phases])
    print(
        f"[{label}] drained for {waited:.1f} s; sockets open {client.open_sockets}; closed by the server: "
        f"{dict(client.closed) or 'none'}, reconnected {client.reconnects}; "
        f"server RSS {server.memory_info().rss / 2**20:.0f} MiB"
    )
    await client.close()
    return phases


def load_average() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def run_bare(chats: list[ChatTarget], args: argparse.Namespace) -> PhaseResult:
    relay, port = start_bare_relay()
    try:
        (bare,) = uvloop.run(
            run_against(label="bare relay", port=port, chats=chats, args=args, server_pid=relay.pid, saturation=False)
        )
    finally:
        stop(relay)
    report_phase(bare)
    return bare


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("two-party", "three-party"), default="two-party")
    parser.add_argument("--chats", type=int, default=1000, help="human–human chats (two sockets each)")
    parser.add_argument("--games", type=int, default=500, help="three-party games (three sockets each)")
    parser.add_argument("--bots", type=int, default=5, help="three-party: live bots, all answered by the bench bot")
    parser.add_argument("--rate", type=float, default=400.0, help="messages per second, all chats together")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of steady load")
    parser.add_argument("--grace", type=float, default=2.0, help="a delivery later than this after a phase is late")
    parser.add_argument("--saturation-factor", type=float, default=4.0)
    parser.add_argument("--saturation-duration", type=float, default=5.0)
    parser.add_argument("--drain", type=float, default=60.0, help="at most this long for the backlog at the end")
    parser.add_argument("--ack-timeout", type=float, default=3.0, help="resend a message not acked after this")
    parser.add_argument("--max-attempts", type=int, default=4, help="sends of one message at most")
    parser.add_argument("--skip-bare", action="store_true", help="skip the bare-relay floor")
    parser.add_argument(
        "--app", default="hulic.asgi:application", help="ASGI app for uvicorn (to compare a variant on PYTHONPATH)"
    )
    parser.add_argument("--bare-only", action="store_true", help="only the bare relay (no database or server)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    args = parser.parse_args()

    if args.bare_only:
        bare = run_bare([ChatTarget(room=f"room-{n}", cookies=None) for n in range(args.chats)], args)
        return 0 if not bare.lost and len(bare.acked) == len(bare.sent) else 1

    secret_key = secrets.token_urlsafe(50)
    create_database(args.database_url)
    setup_django(database_url=args.database_url, redis_url=args.redis_url, secret_key=secret_key)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    if args.mode == "three-party":
        return main_three_party(args, secret_key)
    seed_started = time.perf_counter()
    seed_reset()
    chats = seed_chats(seed_competition(), args.chats)
    print(f"seeded {len(chats)} chats / {2 * len(chats)} users in {time.perf_counter() - seed_started:.1f} s")
    print(f"server: uvicorn {args.app}, one process; machine load average at start {load_average()}")

    server, port, server_log = start_hulic(
        database_url=args.database_url, redis_url=args.redis_url, secret_key=secret_key, app=args.app
    )
    try:
        hulic_phases = uvloop.run(
            run_against(label="hulic", port=port, chats=chats, args=args, server_pid=server.pid, saturation=True)
        )
    finally:
        stop(server)
    summarise_server_log(server_log)
    persisted = persisted_client_ids()
    for phase in hulic_phases:
        report_phase(phase, persisted=persisted)

    if not args.skip_bare:
        bare = run_bare([ChatTarget(room=c.room, cookies=None) for c in chats], args)
        steady_p99 = percentile(hulic_phases[0].latencies_ms, 99)
        bare_p99 = percentile(bare.latencies_ms, 99)
        print(f"\np99 HuLiC / bare relay: {steady_p99:.1f} ms / {bare_p99:.1f} ms = {steady_p99 / bare_p99:.1f}×")

    print(f"\nmachine load average at the end {load_average()} (2 cores, shared with the client)")
    no_silent_loss = all(not p.lost and not p.duplicates for p in hulic_phases)
    steady = hulic_phases[0]
    p99 = percentile(steady.latencies_ms, 99)
    print(f"\nRESULT: silent loss or duplicates: {'none' if no_silent_loss else 'YES (see above)'}")
    print(
        f"RESULT: steady {args.rate:g} msg/s over {2 * args.chats} sockets: p99 {p99:.1f} ms "
        f"({'meets' if p99 < P99_TARGET_MS and len(steady.on_time) == len(steady.sent) else 'misses'} "
        f"the {P99_TARGET_MS:g} ms target with everything delivered in the phase)"
    )
    return 0 if no_silent_loss else 1


def game_figures(phase: PhaseResult) -> str:
    relay = phase.relay_latencies_ms(to_bot=False)
    to_bot, answers = phase.relay_latencies_ms(to_bot=True), phase.bot_reply_latencies_ms
    bot_answers = len(phase.bot_replies)
    rate = (len(phase.sent) + bot_answers) / phase.duration
    return (
        f"{rate:.0f} msg/s persisted ({len(phase.sent)} sent by people, {bot_answers} bot answers shown): "
        f"p99 {percentile(phase.latencies_ms, 99):.1f} ms over every delivery (person → person "
        f"{percentile(relay, 99):.1f}, person → bot's webhook {percentile(to_bot, 99):.1f}, bot's answer → "
        f"interrogator {percentile(answers, 99):.1f}), lost {phase.lost_count}, duplicated {phase.duplicates}"
    )


def main_three_party(args: argparse.Namespace, secret_key: str) -> int:
    """500 games' three sockets each and a bot turn per message to a bot (the real signed webhook, bench_bot.py),
    then the same number of sockets in two-party chats at the same rate, on the same server in the same minute."""
    from competitions.models import new_signing_secret

    bot_secret = new_signing_secret()
    bot, bot_port = start_bench_bot(bot_secret)
    bot_url = f"http://127.0.0.1:{bot_port}/"
    sockets = 3 * args.games
    try:
        seed_started = time.perf_counter()
        seed_reset()
        competition = seed_competition()
        games = seed_games(competition, args.games, bots=args.bots, bot_url=bot_url, bot_secret=bot_secret)
        chats = seed_chats(competition, sockets // 2)
        print(
            f"seeded {args.games} games and {len(chats)} two-party chats ({sockets} sockets each) "
            f"in {time.perf_counter() - seed_started:.1f} s"
        )
        print(f"server: uvicorn {args.app}, one process; machine load average at start {load_average()}")
        server, port, server_log = start_hulic(
            database_url=args.database_url,
            redis_url=args.redis_url,
            secret_key=secret_key,
            app=args.app,
            # The platform's cost, not human-like pacing: bot answers go out as soon as they are saved.
            extra_env={
                "CHAT_PRESENCE_TIME_SCALE": "0",
                "CHAT_BOT_DELAY_MAX_MS": "0",
                "BOT_ALLOWED_NETWORKS": "127.0.0.0/8",
            },
        )
        try:
            # Three messages from people for every bot answer: people send ¾ of the rate.
            game_phases = uvloop.run(
                run_against(
                    label="three-party",
                    port=port,
                    chats=games,
                    args=args,
                    server_pid=server.pid,
                    saturation=False,
                    plan=THREE_PARTY_PLAN,
                    rate=args.rate * 3 / 4,
                    bot_records_url=bot_url + "records",
                    phase_prefix="game-",
                )
            )
            load_between = load_average()
            chat_phases = uvloop.run(
                run_against(
                    label="two-party", port=port, chats=chats, args=args, server_pid=server.pid, saturation=False
                )
            )
        finally:
            stop(server)
    finally:
        stop(bot)
    summarise_server_log(server_log)
    persisted, answers = persisted_client_ids(), persisted_bot_answers()
    for phase in game_phases + chat_phases:
        report_phase(phase, persisted=persisted, persisted_answers=answers)

    game, chat = game_phases[0], chat_phases[0]
    game_p99, chat_p99 = percentile(game.latencies_ms, 99), percentile(chat.latencies_ms, 99)
    chat_rate = len(chat.sent) / chat.duration
    print(f"\nmachine load average after the three-party run {load_between}, at the end {load_average()} (2 cores)")
    print(f"RESULT: three-party, {args.games} games ({sockets} sockets): {game_figures(game)}")
    print(
        f"RESULT: two-party beside it, {len(chats)} chats ({2 * len(chats)} sockets): {chat_rate:.0f} msg/s: "
        f"p99 {chat_p99:.1f} ms, lost {len(chat.lost)}, duplicated {chat.duplicates}"
    )
    met = game_p99 < P99_TARGET_MS and not game.lost_count and not game.duplicates
    relay_p99 = percentile(game.relay_latencies_ms(to_bot=False), 99)
    print(
        f"RESULT: three-party / two-party p99 {game_p99:.1f} / {chat_p99:.1f} ms = {game_p99 / chat_p99:.1f}× "
        f"(person → person alone {relay_p99 / chat_p99:.1f}×); "
        f"goal (p99 < {P99_TARGET_MS:g} ms over every delivery, 0 lost, 0 duplicated) {'met' if met else 'MISSED'}"
    )
    return 0 if not game.lost_count and not game.duplicates else 1


if __name__ == "__main__":
    sys.exit(main())
