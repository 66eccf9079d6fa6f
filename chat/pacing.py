"""Per-connection flood control: pure logic, no Django. (How a bot's replies are paced: chat.presence.)"""

import time
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """Limits the frames one connection may send, so a flooding client slows only itself."""

    capacity: float
    refill_per_second: float
    tokens: float = field(default=-1.0)
    updated_at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def take(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self.tokens = min(self.capacity, self.tokens + (now - self.updated_at) * self.refill_per_second)
        self.updated_at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
