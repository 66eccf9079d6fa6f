"""The server-side cadence rule for `typing` frames (docs/chat-protocol.md, "Typing"): pure logic, no Django.

A client may send `typing` as often as it likes; the partner sees at most one per TYPING_RELAY_INTERVAL_SECONDS from
each socket, and the rest are dropped without an answer. So a script cannot flood the partner's screen, and the
indicator's rhythm is the server's, whatever the client sends (the chat page sends one every 2 s while the user
types; the interval is a little shorter so network jitter never swallows one of those).
"""

import time
from dataclasses import dataclass

TYPING_RELAY_INTERVAL_SECONDS = 1.5


@dataclass
class TypingRelayLimit:
    """Decides, per socket, whether a `typing` frame is relayed to the partner now."""

    interval_seconds: float = TYPING_RELAY_INTERVAL_SECONDS
    last_relayed_at: float | None = None

    def allow(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if self.last_relayed_at is not None and now - self.last_relayed_at < self.interval_seconds:
            return False
        self.last_relayed_at = now
        return True
