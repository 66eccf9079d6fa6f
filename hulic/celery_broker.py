"""Kombu's Redis transport, made to survive a Redis restart under Celery 5.7.

When the broker connection breaks, Celery 5.7.0's worker collects the connection (which drops the transport's
client) and then closes it; closing a channel restores its unacknowledged messages, which reads the Redis address
from that client: ``AttributeError: 'NoneType' object has no attribute 'hostname'``, an error Celery does not
expect there, so the worker exits for good ("Unrecoverable error"). It happens whenever Redis restarts while the
worker holds an unacked task: a countdown recompute, a running export (acks_late).

Here that case raises a Redis connection error instead, which Celery ignores while it reconnects. Nothing is lost:
the messages stay in Redis's unacked set and Redis restores them after the visibility timeout, and the database
safety nets (beat's recompute, exports_resume_stale) do not wait for that. tests/faults/test_worker.py restarts
Redis under a worker holding a countdown task.
"""

from kombu.transport import redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise RedisConnectionError("the broker connection was closed after a connection loss")
        return super()._connparams(asynchronous=asynchronous)


class Transport(redis.Transport):
    Channel = Channel
