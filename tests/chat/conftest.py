"""Chat fixtures: fast bot pacing, a local bot, logged-in websocket connections on the real ASGI stack."""

from collections.abc import Iterator

import pytest
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client

from chat.bot_turns import bot_turns_wait_all
from chat.db import chat_database_close
from tests.chat.localbot import LocalBot, local_bot

LOOPBACK = ["127.0.0.0/8", "::1/128"]


@pytest.fixture(autouse=True)
def fast_chat_settings(settings):
    settings.CHAT_BOT_DELAY_MAX_MS = 30.0
    settings.CHAT_PRESENCE_TIME_SCALE = 0.0  # no human-like holds or typing delays by default
    settings.BOT_ALLOWED_NETWORKS = LOOPBACK
    settings.BOT_CONNECT_TIMEOUT = 1.0
    settings.BOT_READ_TIMEOUT = 0.3
    settings.BOT_TOTAL_TIMEOUT = 0.5
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # users are made per test
    return settings


@pytest.fixture
def lobby_hold(monkeypatch):
    """A person alone in the game lobby is held a minute before falling back to a bot chat (at time scale 0 the
    drawn hold is 0, and the first of two people would fall back before the second arrives)."""
    monkeypatch.setattr("chat.services.games.match_hold_draw", lambda **kwargs: 60.0)


@pytest.fixture
def localbot() -> Iterator[LocalBot]:
    with local_bot() as bot:
        yield bot


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


async def connect(user, conversation, *, last_seq: int | None = None, origin: str = "http://localhost"):
    """A connected communicator for ``user`` on ``conversation``; returns (communicator, hello frame)."""
    from hulic.asgi import application

    cookie = await database_sync_to_async(session_cookie)(user)
    path = f"/ws/chat/{conversation.public_id}/"
    if last_seq is not None:
        path += f"?last_seq={last_seq}"
    communicator = WebsocketCommunicator(
        application,
        path,
        headers=[
            (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode()),
            (b"origin", origin.encode()),
            (b"host", b"localhost"),
        ],
    )
    connected, code = await communicator.connect(timeout=5)
    if not connected:
        return communicator, code
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return communicator, hello


async def receive_until(communicator, frame_type: str, *, timeout: float = 5.0) -> tuple[dict, list[dict]]:
    """Read frames until one of ``frame_type``; returns it and everything read before it."""
    seen = []
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["type"] == frame_type:
            return frame, seen
        seen.append(frame)


async def drain(communicator, *, timeout: float = 0.2) -> list[dict]:
    frames = []
    while not await communicator.receive_nothing(timeout=timeout):
        frames.append(await communicator.receive_json_from())
    return frames


@pytest.fixture
async def async_chat_cleanup():
    """Let bot turns finish, then close the database threads' connections (CONN_MAX_AGE keeps them open)."""
    yield
    await bot_turns_wait_all()
    await database_sync_to_async(connections.close_all)()
    chat_database_close()
