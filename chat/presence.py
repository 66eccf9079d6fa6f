"""How a partner *looks* while it reads, types, sends and leaves: pure logic, no Django (docs/blinding.md).

An evaluator sees their partner only through frames and their timing. A human partner's browser sends a ``typing``
frame on its first keystroke and then at most every 2 s while keys are pressed, then the message; a bot has no
keyboard. So the bot's side is played from what human partners' browsers actually sent in control chats
(``TurnTiming``, recorded by ``TurnRecorder``): the delay before the first ``typing``, the intervals between
``typing`` frames and the gap from the last one to the message, picked from a recorded turn of about the same
length as the bot's reply. Until enough control chats exist, ``simulate_browser_turn`` (a documented default:
typists of median 3.5 characters a second behind the chat page's 2-second throttle) stands in.

Both kinds of typing then pass the same server-side ``TypingCadence`` before they reach the evaluator.
Every default duration is multiplied by a time scale (the ``CHAT_PRESENCE_TIME_SCALE`` setting), so that tests
can play realistic chats a hundred times faster.
"""

import itertools
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

# The chat page sends `typing` at most this often (static/chat/chat.js); the server forwards at most this often.
BROWSER_TYPING_THROTTLE_S = 2.0
CADENCE_MIN_INTERVAL_S = 1.5
# Documented defaults, used until a competition has MIN_RECORDED_* samples of its own.
DEFAULT_READ_MEDIAN_S = 2.0
DEFAULT_OPENING_MEDIAN_S = 4.0
DEFAULT_CHARS_PER_S_MEDIAN = 3.5
DEFAULT_LEAVE_MEDIAN_S = 8.0
DEFAULT_MATCH_WAIT_MEDIAN_S = 5.0
MIN_RECORDED_TURNS = 30
MIN_RECORDED_LEAVES = 10
MIN_RECORDED_WAITS = 20
# A recorded turn is picked among the NEAREST_TURNS whose length is closest to the reply's.
NEAREST_TURNS = 5


@dataclass(frozen=True)
class TurnTiming:
    """How a partner's browser signalled one message: never the text, only its length and the frame times."""

    chars: int
    read_s: float  # from the partner's message (or the start of the chat) to the first `typing`
    intervals_s: tuple[float, ...]  # between consecutive `typing` frames
    gap_s: float  # from the last `typing` to the message

    @property
    def total_s(self) -> float:
        return self.read_s + sum(self.intervals_s) + self.gap_s


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def simulate_browser_turn(
    *,
    chars: int,
    rng: random.Random,
    scale: float = 1.0,
    read_median_s: float = DEFAULT_READ_MEDIAN_S,
    chars_per_s_median: float = DEFAULT_CHARS_PER_S_MEDIAN,
    pause_probability: float = 0.08,
    throttle_s: float = BROWSER_TYPING_THROTTLE_S,
) -> TurnTiming:
    """A person reading, then typing ``chars`` keys (with the odd pause), behind the chat page's typing throttle.

    The default profile, and the scripted human partners of the blinding tests (with other parameters).
    """
    read = _lognormal(rng, read_median_s, 0.45)
    speed = _lognormal(rng, chars_per_s_median, 0.3)
    keys, now = [], read
    for _ in range(max(1, chars)):
        keys.append(now)
        step = rng.expovariate(speed)
        if rng.random() < pause_probability:
            step += rng.uniform(0.5, 3.0)
        now += step
    frames = [keys[0]]
    for key in keys[1:]:
        if key - frames[-1] >= throttle_s:
            frames.append(key)
    send = keys[-1] + rng.uniform(0.2, 1.2)  # a last look, then Enter
    intervals = tuple((b - a) * scale for a, b in itertools.pairwise(frames))
    return TurnTiming(chars=chars, read_s=frames[0] * scale, intervals_s=intervals, gap_s=(send - frames[-1]) * scale)


@dataclass(frozen=True)
class PresenceProfile:
    """The timing material a bot's turn is played from: recorded human turns, or the documented default."""

    replies: tuple[TurnTiming, ...] = ()
    openings: tuple[TurnTiming, ...] = ()
    leaves_s: tuple[float, ...] = ()
    scale: float = 1.0

    @property
    def recorded(self) -> bool:
        return len(self.replies) >= MIN_RECORDED_TURNS

    def read_s(self, *, opening: bool, rng: random.Random) -> float:
        pool = self.openings if opening and len(self.openings) >= MIN_RECORDED_TURNS // 3 else self.replies
        if self.recorded and pool:
            return rng.choice(pool).read_s
        median = DEFAULT_OPENING_MEDIAN_S if opening else DEFAULT_READ_MEDIAN_S
        return _lognormal(rng, median, 0.45) * self.scale

    def turn_for(self, *, chars: int, rng: random.Random) -> TurnTiming:
        """A recorded turn of about ``chars`` characters (a random one among the nearest), or a simulated one."""
        if not self.recorded:
            return simulate_browser_turn(chars=chars, rng=rng, scale=self.scale)
        target = math.log1p(chars)
        nearest = sorted(self.replies, key=lambda t: (abs(math.log1p(t.chars) - target), rng.random()))
        return rng.choice(nearest[:NEAREST_TURNS])

    def leave_s(self, rng: random.Random) -> float:
        """How long after the partner's last message a person who gives up leaves the chat."""
        if len(self.leaves_s) >= MIN_RECORDED_LEAVES:
            return rng.choice(self.leaves_s)
        return _lognormal(rng, DEFAULT_LEAVE_MEDIAN_S, 0.6) * self.scale


def match_wait_s(*, recorded: Sequence[float], cap_s: float, rng: random.Random, scale: float = 1.0) -> float:
    """How long to hold a match before showing it: a recent human pairing's wait, or the documented default."""
    if len(recorded) >= MIN_RECORDED_WAITS:
        return rng.choice(list(recorded))
    return min(_lognormal(rng, DEFAULT_MATCH_WAIT_MEDIAN_S, 0.8) * scale, cap_s)


@dataclass
class TypingCadence:
    """The one server-side rule every `typing` frame passes, a human's or a bot's: at most one per interval."""

    min_interval_s: float
    last_s: float = field(default=-math.inf)

    def admit(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if now - self.last_s < self.min_interval_s:
            return False
        self.last_s = now
        return True


@dataclass
class TurnRecorder:
    """Follows one human side's socket: when its partner last spoke, when it typed; yields a turn on each send."""

    reference_s: float | None = None
    opening: bool = False
    typing_s: list[float] = field(default_factory=list)
    partner_last_s: float | None = None

    def partner_spoke(self, at_s: float) -> None:
        self.reference_s, self.opening, self.typing_s = at_s, False, []
        self.partner_last_s = at_s

    def left(self, at_s: float) -> float | None:
        """Seconds from the partner's last message to leaving, the delay a failed bot's chat ends with."""
        if self.partner_last_s is None or at_s < self.partner_last_s:
            return None
        return at_s - self.partner_last_s

    def chat_started(self, at_s: float) -> None:
        self.reference_s, self.opening, self.typing_s = at_s, True, []

    def typed(self, at_s: float) -> None:
        if self.reference_s is not None and at_s >= self.reference_s:
            self.typing_s.append(at_s)

    def sent(self, *, at_s: float, chars: int) -> tuple[TurnTiming, bool] | None:
        """The turn just finished (and whether it opened the chat), or None without a reference or any typing."""
        reference, frames, opening = self.reference_s, self.typing_s, self.opening
        self.reference_s, self.typing_s = None, []
        if reference is None or not frames or at_s < frames[-1]:
            return None
        intervals = tuple(b - a for a, b in itertools.pairwise(frames))
        return TurnTiming(chars=chars, read_s=frames[0] - reference, intervals_s=intervals, gap_s=at_s - frames[-1]), (
            opening
        )


@dataclass
class SaveLatency:
    """How long saving a message takes, a human's (one statement) and a bot's reply (a few), in this process.

    A message reaches the partner only once saved; a bot's reply costs more to save than a human's message, so
    it is released that much earlier and arrives when a human's would (exponential moving averages).
    """

    human_s: float = 0.0
    bot_s: float = 0.0
    weight: float = 0.1

    def note(self, *, bot: bool, seconds: float) -> None:
        if bot:
            self.bot_s += self.weight * (seconds - self.bot_s)
        else:
            self.human_s += self.weight * (seconds - self.human_s)

    @property
    def bot_head_start_s(self) -> float:
        return max(0.0, self.bot_s - self.human_s)


SAVE_LATENCY = SaveLatency()
