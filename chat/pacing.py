"""Human-like pacing of bot replies and per-connection flood control: pure logic, no Django."""

import random
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PacingSettings:
    read_ms_per_char: float
    type_ms_per_char: float
    min_ms: float
    max_ms: float
    jitter: float


def bot_reply_delay_seconds(
    *, prompt: str, reply: str, already_elapsed_s: float, pacing: PacingSettings, rng: random.Random | None = None
) -> float:
    """How long to hold a bot reply back so that it arrives as a human's would.

    A person reads the message, then types the answer; a fast bot would otherwise give itself away. The time the
    bot already spent answering counts towards the delay.
    """
    rng = rng or random.Random()
    base_ms = len(prompt) * pacing.read_ms_per_char + len(reply) * pacing.type_ms_per_char
    jittered_ms = base_ms * (1 + rng.uniform(-pacing.jitter, pacing.jitter))
    target_ms = min(max(jittered_ms, pacing.min_ms), pacing.max_ms)
    return max(0.0, target_ms / 1000 - already_elapsed_s)


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
