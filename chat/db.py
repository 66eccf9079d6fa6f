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
from collections.abc import Callable
from concurrent.futures import Executor, Future

from channels.db import DatabaseSyncToAsync
from django.db import connections

# Enough to keep Postgres busy on two cores without holding many idle connections per ASGI process.
DATABASE_THREADS = 8


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


def chat_database(fn: Callable) -> DatabaseSyncToAsync:
    """``fn`` as a coroutine function run on the chat's database threads (connections closed if stale or broken).

    On SQLite (the embedded default) it runs in Django's one shared thread as before: SQLite admits one writer at
    a time anyway, and its in-memory test database fails at once on a lock instead of waiting for it.
    """
    if connections["default"].vendor == "sqlite":
        return DatabaseSyncToAsync(fn)
    return DatabaseSyncToAsync(fn, thread_sensitive=False, executor=_threads)


def chat_database_close() -> None:
    """Close every chat database thread's connection (tests, before the database is flushed or dropped).

    The threads are started again by the next call.
    """
    _threads.shutdown(wait=True)
