"""Issue 11, channel 4, at the level of the queue: the wait an evaluator sees says nothing about the partner.

Runs the real matchmaking (``match_request_start`` for the start, ``match_poll`` for the waiting page's polls: one
second after the page opens, then every two seconds, as static/chat/waiting.js does) for a few hundred evaluators
arriving at random, some pairing with each other, others (or the same, after their hold) served by a bot. The
clock is simulated: it moves to each arrival and poll, and one millisecond per reading in between, the server's
own latency. The wait each evaluator sees (from their start to the first answer that says "matched") is
compared for bot and human partners with a two-sample Kolmogorov-Smirnov test, failing at p < 0.001 as the
other timing tests do.
"""

import heapq
import random
from datetime import UTC, datetime, timedelta

import pytest
from scipy.stats import ks_2samp

from chat import selectors, services
from chat.models import Conversation, MatchRequest, PartnerKind
from chat.presence import MIN_RECORDED_WAITS
from tests.factories import BotFactory, CompetitionFactory, EvaluatorFactory, UserFactory

pytestmark = pytest.mark.django_db

P_FAIL = 0.001
FIRST_POLL_S, POLL_EVERY_S = 1.0, 2.0  # static/chat/waiting.js
SERVER_STEP = timedelta(milliseconds=1)


class Clock:
    """Simulated time: set to each event, and a millisecond further at every reading (the server's latency)."""

    def __init__(self) -> None:
        self.at = datetime(2026, 12, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.at += SERVER_STEP
        return self.at


@pytest.fixture
def clock(monkeypatch, settings):
    settings.CHAT_PRESENCE_TIME_SCALE = 1.0
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    clock = Clock()
    monkeypatch.setattr("django.utils.timezone.now", clock)
    # The field's cached default callable, not ``default``: Django caches it on first use, so a patched
    # ``default`` would outlive this test.
    for model, name in ((MatchRequest, "created_at"), (Conversation, "started_at")):
        monkeypatch.setattr(model._meta.get_field(name), "_get_default", clock)
    return clock


def simulate(clock: Clock, *, evaluators: int, mean_gap_s: float, control_share: float, seed: int):
    """Waits seen by evaluators matched with a bot and with a human, once holds come from recorded human waits
    (before that they follow the documented default, which cannot know the competition's waits: docs/blinding.md)."""
    rng = random.Random(seed)
    competition = CompetitionFactory(
        control_chat_share=control_share, human_partner_wait_seconds=20, max_chats_per_evaluator_per_bot=10
    )
    BotFactory.create_batch(3, competition=competition)
    users = [EvaluatorFactory(competition=competition, user=UserFactory()).user for _ in range(evaluators)]
    events: list[tuple[datetime, int, str, int]] = []  # (when, order, what, evaluator index)
    at = clock.at
    for index in range(evaluators):
        at += timedelta(seconds=rng.expovariate(1 / mean_gap_s))
        heapq.heappush(events, (at, len(events), "start", index))
    started: dict[int, datetime] = {}
    calibrated: set[int] = set()  # evaluators who started once holds came from recorded human waits
    waits: dict[str, list[float]] = {PartnerKind.BOT: [], PartnerKind.HUMAN: []}

    def seen_matched(index: int, conversation: Conversation, when: datetime) -> None:
        wait = (when - started.pop(index)).total_seconds()
        if index in calibrated:
            waits[conversation.partner_kind].append(wait)

    while events:
        when, _, what, index = heapq.heappop(events)
        clock.at = max(clock.at, when)
        user = users[index]
        if what == "start":
            started[index] = when
            if len(selectors.recent_human_match_waits(competition=competition)) >= MIN_RECORDED_WAITS:
                calibrated.add(index)
            request = services.match_request_start(
                competition=competition, user=user, language="en", rng=random.Random(rng.random())
            )
            if request.status == MatchRequest.Status.MATCHED:
                seen_matched(index, request.conversation, when)
            else:
                heapq.heappush(events, (when + timedelta(seconds=FIRST_POLL_S), len(events), "poll", index))
            continue
        state, conversation = services.match_poll(competition=competition, user=user)
        if state == "matched":
            seen_matched(index, conversation, when)
        elif state == "waiting":
            heapq.heappush(events, (when + timedelta(seconds=POLL_EVERY_S), len(events), "poll", index))
        else:
            pytest.fail(f"evaluator {index} was answered {state!r} while three bots were available")
    return waits[PartnerKind.BOT], waits[PartnerKind.HUMAN]


def test_the_wait_an_evaluator_sees_is_the_same_for_bot_and_human_partners(clock):
    bot, human = simulate(clock, evaluators=260, mean_gap_s=4.0, control_share=0.5, seed=11)
    print(
        f"{len(bot)} bot, {len(human)} human waits (control share 0.5 asked); seen at once "
        f"{sum(w == 0 for w in bot) / len(bot):.2f} / {sum(w == 0 for w in human) / len(human):.2f}; "
        f"mean {sum(bot) / len(bot):.2f} / {sum(human) / len(human):.2f} s"
    )
    assert len(human) >= 25 and len(bot) >= 25
    result = ks_2samp(bot, human)
    print(f"KS p = {result.pvalue:.4f}")
    assert result.pvalue >= P_FAIL, f"match waits differ (KS p = {result.pvalue:.2g})"
