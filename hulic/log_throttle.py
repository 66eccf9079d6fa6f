"""One log line per kind of failure per interval: pure logic, no Django.

During an outage (Redis or Postgres gone for a few seconds) every socket, task and request fails the same way; a
traceback each buried the logs (one 5-second Redis outage wrote ~51,600 lines). A ThrottledLog writes the first
failure of a kind with its exception's type and message, then at most one line per interval saying how many more
of that kind happened.
"""

import logging
import threading
import time
from collections.abc import Callable


class ThrottledLog:
    def __init__(self, logger: logging.Logger, *, interval: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._next_at: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, kind: str, message: str, *args, error: BaseException | None = None) -> bool:
        """Log ``message`` for ``kind`` unless one was logged less than ``interval`` ago; True if it was logged."""
        now = self.clock()
        with self._lock:
            if now < self._next_at.get(kind, float("-inf")):
                self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
                return False
            self._next_at[kind] = now + self.interval
            suppressed = self._suppressed.pop(kind, 0)
        suffix = f" [{kind}]"
        if error is not None:
            suffix += f" {type(error).__name__}: {error}"
        if suppressed:
            suffix += f" ({suppressed} more since the last line)"
        self.logger.warning(message + suffix, *args)
        return True


class ThrottleFilter(logging.Filter):
    """The logging handler's filter (settings.LOGGING): warnings and errors of one kind (logger and message template)
    pass once per interval, the first with its traceback; the next one that passes says how many were dropped.

    It also quiets what libraries log in a loop during an outage (channels_redis logs a traceback a second per
    connection and one per socket closed while Redis is gone)."""

    def __init__(self, interval: float = 30.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._next_at: dict[tuple, float] = {}
        self._suppressed: dict[tuple, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        kind = (record.name, str(record.msg))
        now = self.clock()
        with self._lock:
            if now < self._next_at.get(kind, float("-inf")):
                self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
                return False
            if len(self._next_at) > 10_000:  # message templates with values baked in: forget, do not grow
                self._next_at.clear()
                self._suppressed.clear()
            self._next_at[kind] = now + self.interval
            suppressed = self._suppressed.pop(kind, 0)
        if suppressed:
            record.msg = f"{record.msg} ({suppressed} more like this not logged)"
        return True
