"""Fills the gaps a Redis restart leaves in live chats.

The channel layer (Redis pub/sub) delivers nothing while Redis is down, nor in the second or so after it returns
before each process has subscribed again: messages saved and acknowledged then reach no partner until a later event
makes the partner's socket notice the gap. Each web process therefore keeps one subscription of its own to Redis
(from the ASGI lifespan). When that connection breaks and comes back, every chat socket of the process fetches
what it missed from the database, once at once and again after the layer has resubscribed. Clients' pings also
carry their last seq (docs/chat-protocol.md) for gaps nothing here could see.
"""

import asyncio
import logging

from django.conf import settings

from hulic.log_throttle import ThrottledLog

logger = logging.getLogger(__name__)
quiet_log = ThrottledLog(logger)

WATCH_CHANNEL = "hulic.layer-watch"
RETRY_SECONDS = 0.5
# channels_redis's receiver sleeps 1 s after an error before it reads (and so resubscribes) again.
RESYNC_AFTER_SECONDS = (0.0, 1.5, 3.5)


async def layer_watch_forever(stop: asyncio.Event) -> None:
    """Until ``stop`` is set. (redis-py's get_message can swallow a cancellation that lands in its timeout.)"""
    import redis.asyncio as redis

    from chat.consumers import chat_sockets_resync

    broken = False
    while not stop.is_set():
        client = redis.Redis.from_url(settings.REDIS_URL)
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(WATCH_CHANNEL)
                if broken:
                    broken = False
                    logger.warning("Redis is back: chat sockets fetch what they missed")
                    asyncio.get_running_loop().create_task(_resync_in_steps(chat_sockets_resync))
                while not stop.is_set():
                    await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            broken = True
            quiet_log.warning("layer-watch", "the chat's Redis connection broke", error=error)
        finally:
            await client.aclose()
        await asyncio.sleep(RETRY_SECONDS)


async def _resync_in_steps(resync) -> None:
    started = asyncio.get_running_loop().time()
    for at in RESYNC_AFTER_SECONDS:
        await asyncio.sleep(max(0.0, started + at - asyncio.get_running_loop().time()))
        await resync()
