"""The ASGI lifespan: the web process starts its bot-turn sweep, and at shutdown hands its turns over."""

import asyncio

import pytest

from hulic.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_lifespan_starts_the_sweep_and_completes_shutdown(monkeypatch, settings):
    from chat import bot_turns

    settings.CHAT_BOT_TURN_SWEEP_SECONDS = 0.01
    swept = asyncio.Event()
    handed_over = []

    async def sweep():
        swept.set()
        return 0

    async def hand_over():
        handed_over.append(True)
        return 0

    monkeypatch.setattr(bot_turns, "bot_turns_sweep", sweep)
    monkeypatch.setattr(bot_turns, "bot_turns_hand_over", hand_over)
    inbox: asyncio.Queue = asyncio.Queue()
    outbox: asyncio.Queue = asyncio.Queue()
    server = asyncio.create_task(application({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, outbox.put))

    await inbox.put({"type": "lifespan.startup"})
    assert await asyncio.wait_for(outbox.get(), 5) == {"type": "lifespan.startup.complete"}
    await asyncio.wait_for(swept.wait(), 5)
    await inbox.put({"type": "lifespan.shutdown"})
    assert await asyncio.wait_for(outbox.get(), 5) == {"type": "lifespan.shutdown.complete"}
    await asyncio.wait_for(server, 5)
    assert handed_over == [True]
