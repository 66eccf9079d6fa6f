"""chat.presence: recording human turns, the typing cadence rule, and what bots are played from."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services
from chat.models import MatchRequest, PartnerKind
from chat.presence import (
    MIN_RECORDED_TURNS,
    MIN_RECORDED_WAITS,
    PresenceProfile,
    TurnRecorder,
    TurnTiming,
    TypingCadence,
    match_wait_s,
    simulate_browser_turn,
)
from tests.chat.test_games import record_human_pairings
from tests.factories import BotFactory, CompetitionFactory, EvaluatorFactory


def test_recorder_turns_browser_frames_into_a_turn_and_a_leaving_delay():
    recorder = TurnRecorder()
    recorder.partner_spoke(100.0)
    for at in (102.5, 104.6, 106.9):
        recorder.typed(at)
    turn, opening = recorder.sent(at_s=108.0, chars=42)
    assert (turn.chars, turn.read_s, opening) == (42, 2.5, False)
    assert [round(i, 3) for i in turn.intervals_s] == [2.1, 2.3] and round(turn.gap_s, 3) == 1.1
    assert recorder.sent(at_s=109.0, chars=3) is None  # a second message without the partner speaking: no turn
    assert recorder.left(115.0) == 15.0


def test_the_cadence_rule_admits_a_frame_exactly_at_the_interval_and_none_before():
    cadence = TypingCadence(min_interval_s=1.5)
    decisions = [cadence.admit(now=t) for t in (0.0, 0.1, 1.0, 1.49, 1.5, 1.6, 3.0, 10.0)]
    assert decisions == [True, False, False, False, True, False, True, True]


def test_one_cadence_rule_drops_typing_frames_that_come_too_fast():
    cadence = TypingCadence(min_interval_s=1.5)
    assert [cadence.admit(now=t) for t in (0.0, 0.5, 1.4, 1.6, 2.0, 3.2)] == [True, False, False, True, False, True]


def test_a_bot_plays_a_recorded_turn_of_about_its_replys_length():
    short = [TurnTiming(chars=10, read_s=1.0, intervals_s=(), gap_s=0.5)] * MIN_RECORDED_TURNS
    long = [TurnTiming(chars=200, read_s=2.0, intervals_s=(2.1,) * 20, gap_s=1.0)] * MIN_RECORDED_TURNS
    profile = PresenceProfile(replies=tuple(short + long))
    rng = random.Random(1)
    assert profile.turn_for(chars=12, rng=rng).chars == 10
    assert profile.turn_for(chars=180, rng=rng).chars == 200
    assert profile.read_s(opening=False, rng=rng) in (1.0, 2.0)


def test_without_enough_recordings_the_documented_default_plays_at_the_time_scale():
    rng = random.Random(2)
    turns = [PresenceProfile(scale=0.5).turn_for(chars=30, rng=rng) for _ in range(200)]
    real = [simulate_browser_turn(chars=30, rng=rng) for _ in range(200)]
    ratio = sum(t.total_s for t in turns) / sum(t.total_s for t in real)
    assert 0.4 < ratio < 0.6
    assert all(i >= 2.0 * 0.5 for t in turns for i in t.intervals_s)  # the browser's 2-second throttle


def test_match_holds_come_from_recorded_waits_once_there_are_enough():
    rng = random.Random(3)
    recorded = [7.0] * MIN_RECORDED_WAITS
    assert {match_wait_s(recorded=recorded, cap_s=20, rng=rng) for _ in range(20)} == {7.0}
    defaults = [match_wait_s(recorded=recorded[:5], cap_s=20, rng=rng) for _ in range(200)]
    assert max(defaults) <= 20 and len(set(defaults)) > 100


@pytest.mark.django_db
def test_a_bot_match_waits_for_a_hold_drawn_from_human_pairings(settings):
    settings.CHAT_PRESENCE_TIME_SCALE = 1.0
    competition = CompetitionFactory(control_chat_share=0.0)
    BotFactory(competition=competition)
    record_human_pairings(competition, wait_seconds=9)
    user = EvaluatorFactory(competition=competition).user
    request = services.match_request_start(competition=competition, user=user, language="en")
    assert request.status == MatchRequest.Status.WAITING and round(request.hold_seconds) == 9
    assert services.match_attempt(match_request_id=request.pk).status == MatchRequest.Status.WAITING
    MatchRequest.objects.filter(pk=request.pk).update(created_at=timezone.now() - timedelta(seconds=10))
    matched = services.match_attempt(match_request_id=request.pk)
    assert matched.status == MatchRequest.Status.MATCHED and matched.conversation.partner_kind == PartnerKind.BOT
