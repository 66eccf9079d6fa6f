"""The ASGI lifespan: what a web process runs beside its requests and sockets, and how it stops.

Started: the sweep that answers bot turns orphaned by a dead process (chat/bot_turns.py), and the watch that makes
chat sockets fetch what they missed after a Redis restart (chat/layer_watch.py). Stopping (SIGTERM, after
uvicorn has closed the sockets): the process hands its in-flight bot turns over to the other processes instead of
letting them die with it.
"""

import asyncio
import logging

from django.conf import settings

logger = logging.getLogger(__name__)

HAND_OVER_TIMEOUT_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 2.0


async def lifespan(scope, receive, send) -> None:
    from chat.bot_turns import bot_turns_hand_over, bot_turns_sweep_forever
    from chat.layer_watch import layer_watch_forever

    sweeper: asyncio.Task | None = None
    watcher: asyncio.Task | None = None
    stopping = asyncio.Event()
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if settings.CHAT_BOT_TURN_SWEEP_SECONDS > 0:
                sweeper = asyncio.get_running_loop().create_task(bot_turns_sweep_forever())
            if settings.REDIS_URL:
                watcher = asyncio.get_running_loop().create_task(layer_watch_forever(stopping))
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            stopping.set()
            running = [task for task in (sweeper, watcher) if task is not None]
            for task in running:
                task.cancel()
            if running:
                await asyncio.wait(running, timeout=STOP_TIMEOUT_SECONDS)
            try:
                handed = await asyncio.wait_for(bot_turns_hand_over(), HAND_OVER_TIMEOUT_SECONDS)
            except Exception:
                logger.exception("handing the bot turns over failed; their claims expire instead")
            else:
                if handed:
                    logger.info("handed %s bot turn(s) over to the other web processes", handed)
            await send({"type": "lifespan.shutdown.complete"})
            return
