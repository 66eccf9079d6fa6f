"""The chat's database threads: the websocket hot path runs its database calls here, not in the one shared thread.

``channels.db.database_sync_to_async`` is thread-sensitive: every socket of the process would queue its queries
behind one thread (and one Postgres connection), mostly waiting on round trips. The chat's calls are independent
(each takes the row lock it needs), so they run on a small pool instead; Django connections are per thread, so
each worker keeps its own persistent connection, checked and recycled around every call as Django does for a
request.
"""

import atexit
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future

from channels.db import DatabaseSyncToAsync
from django.db import close_old_connections, connections

# Enough to keep Postgres busy on two cores without holding many idle connections per ASGI process.
DATABASE_THREADS = 8
# Django's connection check (close_old_connections, and with CONN_HEALTH_CHECKS a SELECT 1 on the next use) runs
# before a call when the thread's connection has been idle this long (it may have been closed meanwhile), and at
# least this often under steady use (CONN_MAX_AGE).
CONNECTION_IDLE_SECONDS = 1.0
CONNECTION_CHECK_SECONDS = 10.0
_checks = threading.local()


class DatabaseThreads(Executor):
    """A fixed pool of daemon threads that closes each thread's database connections when it shuts down.

    concurrent.futures.ThreadPoolExecutor cannot run code in every worker, so its threads' connections would stay
    open until garbage collection (and keep a test database from being dropped).
    """

    def __init__(self, size: int):
        self._size = size
        self._work: queue.SimpleQueue | None = None  # one queue per generation of threads
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @property
    def backlog(self) -> int:
        """Calls waiting for a free thread (approximate: read without the lock)."""
        work = self._work
        return work.qsize() if work is not None else 0

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        self._queue().put((future, fn, args, kwargs))
        return future

    def _queue(self) -> queue.SimpleQueue:
        with self._lock:
            if self._work is None:
                self._work = queue.SimpleQueue()
                self._threads = [
                    threading.Thread(target=self._run, args=(self._work,), name=f"chat-db-{n}", daemon=True)
                    for n in range(self._size)
                ]
                for thread in self._threads:
                    thread.start()
            return self._work

    @staticmethod
    def _run(work: queue.SimpleQueue) -> None:
        while True:
            item = work.get()
            if item is None:
                connections.close_all()
                return
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as error:  # handed to the awaiting coroutine, which re-raises it
                future.set_exception(error)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            work, threads = self._work, self._threads
            self._work, self._threads = None, []
        for _thread in threads:
            work.put(None)
        if wait:
            for thread in threads:
                thread.join()


_threads = DatabaseThreads(DATABASE_THREADS)
atexit.register(_threads.shutdown, wait=False)


class ChatDatabaseCall(DatabaseSyncToAsync):
    """DatabaseSyncToAsync that checks its thread's connection when it has been idle, not around every call.

    Channels checks before and after every call; with health checks on, that made every chat message pay one
    more round trip (a SELECT 1), about a sixth of the server's time under load. Here the check runs before a
    call on a connection idle for CONNECTION_IDLE_SECONDS (Postgres may have closed it meanwhile), at least every
    CONNECTION_CHECK_SECONDS, and after any call that hit a database error (a broken connection is closed then).
    """

    def thread_handler(self, loop, *args, **kwargs):
        now = time.monotonic()
        if now - getattr(_checks, "last_used", 0.0) > CONNECTION_IDLE_SECONDS or now >= getattr(_checks, "due", 0.0):
            close_old_connections()
            _checks.due = now + CONNECTION_CHECK_SECONDS
        try:
            return super(DatabaseSyncToAsync, self).thread_handler(loop, *args, **kwargs)
        finally:
            if any(connection.errors_occurred for connection in connections.all(initialized_only=True)):
                close_old_connections()
            elif getattr(connections["default"], "pool", None) is not None:
                # With the connection pool (DATABASE_POOL) the connection goes back after every call (tens of
                # microseconds): idle chat threads must not hold the process's few connections away from requests.
                connections["default"].close()
            _checks.last_used = time.monotonic()


def chat_database(fn: Callable) -> DatabaseSyncToAsync:
    """``fn`` as a coroutine function run on the chat's database threads (connections closed if stale or broken).

    On SQLite (the embedded default) it runs in Django's one shared thread as before: SQLite admits one writer at
    a time anyway, and its in-memory test database fails at once on a lock instead of waiting for it.
    """
    if connections["default"].vendor == "sqlite":
        return DatabaseSyncToAsync(fn)
    return ChatDatabaseCall(fn, thread_sensitive=False, executor=_threads)


def chat_database_backlog() -> int:
    """Database calls of this process queued behind busy threads: the chat's measure of overload (0 on SQLite)."""
    return _threads.backlog


def chat_database_close() -> None:
    """Close every chat database thread's connection (tests, before the database is flushed or dropped).

    The threads are started again by the next call.
    """
    _threads.shutdown(wait=True)
