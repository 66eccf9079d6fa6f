"""chat.presence at its edges: each "enough recordings" limit at and below, the documented defaults' medians and
spreads, the nearest recorded turns, and the recorder's refusals of frames out of order."""

import math
import random
import statistics

import pytest

from chat.presence import (
    MIN_RECORDED_LEAVES,
    MIN_RECORDED_TURNS,
    MIN_RECORDED_WAITS,
    PresenceProfile,
    SaveLatency,
    TurnRecorder,
    TurnTiming,
    TypingCadence,
    match_wait_s,
    simulate_browser_turn,
)

DRAWS = 4000


def turns(count: int, *, chars: int = 10, read_s: float = 1.25) -> tuple[TurnTiming, ...]:
    return (TurnTiming(chars=chars, read_s=read_s, intervals_s=(2.0,), gap_s=0.5),) * count


def median_and_log_spread(values: list[float]) -> tuple[float, float]:
    return statistics.median(values), statistics.stdev(math.log(v) for v in values)


@pytest.mark.parametrize(
    ("opening", "scale", "median", "spread"),
    [(False, 1.0, 2.0, 0.45), (True, 1.0, 4.0, 0.45), (False, 0.5, 1.0, 0.45), (True, 0.25, 1.0, 0.45)],
)
def test_the_default_reading_time_has_the_documented_median_and_spread(opening, scale, median, spread):
    rng = random.Random(5)
    profile = PresenceProfile(scale=scale)
    drawn, log_spread = median_and_log_spread([profile.read_s(opening=opening, rng=rng) for _ in range(DRAWS)])
    assert drawn == pytest.approx(median, rel=0.06)
    assert log_spread == pytest.approx(spread, rel=0.06)


def test_the_default_leaving_delay_and_match_hold_have_the_documented_median_and_spread():
    rng = random.Random(6)
    leave, leave_spread = median_and_log_spread([PresenceProfile(scale=0.5).leave_s(rng) for _ in range(DRAWS)])
    assert (leave, leave_spread) == (pytest.approx(4.0, rel=0.06), pytest.approx(0.6, rel=0.06))
    holds = [match_wait_s(recorded=[], cap_s=1000, rng=rng, scale=2.0) for _ in range(DRAWS)]
    hold, hold_spread = median_and_log_spread(holds)
    assert (hold, hold_spread) == (pytest.approx(10.0, rel=0.06), pytest.approx(0.8, rel=0.06))


def test_a_match_hold_never_exceeds_its_cap():
    rng = random.Random(7)
    holds = [match_wait_s(recorded=[], cap_s=3.0, rng=rng) for _ in range(500)]
    assert max(holds) == 3.0 and min(holds) < 3.0


@pytest.mark.parametrize(("recorded", "used"), [(MIN_RECORDED_WAITS - 1, False), (MIN_RECORDED_WAITS, True)])
def test_recorded_match_waits_are_used_from_their_minimum_count(recorded, used):
    rng = random.Random(8)
    holds = {match_wait_s(recorded=[7.0] * recorded, cap_s=100, rng=rng) for _ in range(50)}
    assert (holds == {7.0}) is used


@pytest.mark.parametrize(("recorded", "used"), [(MIN_RECORDED_LEAVES - 1, False), (MIN_RECORDED_LEAVES, True)])
def test_recorded_leaving_delays_are_used_from_their_minimum_count(recorded, used):
    rng = random.Random(9)
    profile = PresenceProfile(leaves_s=(7.0,) * recorded)
    assert ({profile.leave_s(rng) for _ in range(50)} == {7.0}) is used


@pytest.mark.parametrize(("recorded", "used"), [(MIN_RECORDED_TURNS - 1, False), (MIN_RECORDED_TURNS, True)])
def test_recorded_turns_are_played_from_their_minimum_count(recorded, used):
    rng = random.Random(10)
    profile = PresenceProfile(replies=turns(recorded))
    assert profile.recorded is used
    assert ({profile.read_s(opening=False, rng=rng) for _ in range(50)} == {1.25}) is used
    assert ({profile.turn_for(chars=10, rng=rng) for _ in range(50)} == {turns(1)[0]}) is used


@pytest.mark.parametrize(("openings", "used"), [(MIN_RECORDED_TURNS // 3 - 1, False), (MIN_RECORDED_TURNS // 3, True)])
def test_an_opening_is_read_from_recorded_openings_once_there_are_a_third_as_many(openings, used):
    rng = random.Random(11)
    profile = PresenceProfile(replies=turns(MIN_RECORDED_TURNS, read_s=1.25), openings=turns(openings, read_s=6.5))
    expected = {6.5} if used else {1.25}
    assert {profile.read_s(opening=True, rng=rng) for _ in range(50)} == expected
    assert {profile.read_s(opening=False, rng=rng) for _ in range(50)} == {1.25}


def test_a_recorded_turn_is_one_of_the_five_nearest_in_length():
    rng = random.Random(12)
    profile = PresenceProfile(replies=tuple(turns(1, chars=chars)[0] for chars in range(1, 41)))
    # On a log scale the nearest five to 20 characters are 18 to 22 (23 is farther than 18).
    assert {profile.turn_for(chars=20, rng=rng).chars for _ in range(300)} == {18, 19, 20, 21, 22}


def test_a_simulated_turn_of_no_characters_is_one_keystroke_and_a_send():
    turn = simulate_browser_turn(chars=0, rng=random.Random(13))
    assert (turn.chars, turn.intervals_s) == (0, ())
    assert 0.2 <= turn.gap_s <= 1.2 and turn.read_s > 0


def test_a_simulated_typist_has_the_documented_speed_last_look_and_pauses():
    rng = random.Random(14)
    plain = [simulate_browser_turn(chars=201, rng=rng, pause_probability=0.0, throttle_s=0.0) for _ in range(1500)]
    speeds = [200 / sum(turn.intervals_s) for turn in plain]
    median, spread = median_and_log_spread(speeds)
    assert (median, spread) == (pytest.approx(3.5, rel=0.06), pytest.approx(0.3, rel=0.1))
    assert all(0.2 <= turn.gap_s <= 1.2 for turn in plain)
    assert statistics.mean(turn.gap_s for turn in plain) == pytest.approx(0.7, abs=0.03)
    paused = [simulate_browser_turn(chars=21, rng=rng, pause_probability=1.0, throttle_s=0.0) for _ in range(1500)]
    # Every keystroke gets a pause of 0.5 to 3 s on top of the typing: 20 steps of at least 0.5 s, 1.75 s on average.
    assert min(sum(turn.intervals_s) for turn in paused) >= 20 * 0.5
    mean_pause = statistics.mean(sum(turn.intervals_s) for turn in paused) / 20 - 1 / 3.5 * math.exp(0.3**2 / 2)
    assert mean_pause == pytest.approx(1.75, rel=0.06)


def test_simulated_typing_frames_respect_the_throttle_at_the_time_scale():
    rng = random.Random(15)
    for _ in range(200):
        turn = simulate_browser_turn(chars=60, rng=rng, scale=0.5, throttle_s=3.0)
        assert all(interval >= 1.5 for interval in turn.intervals_s)
        assert turn.read_s > 0 and turn.gap_s >= 0.1


def test_the_cadence_reads_the_clock_when_no_time_is_given():
    cadence = TypingCadence(min_interval_s=60.0)
    assert cadence.admit() is True
    assert cadence.admit() is False


def test_the_recorder_keeps_typing_from_the_moment_the_partner_spoke_and_refuses_what_came_before():
    recorder = TurnRecorder()
    recorder.typed(5.0)  # no reference yet
    assert recorder.sent(at_s=6.0, chars=1) is None
    recorder.partner_spoke(10.0)
    recorder.typed(9.9)  # before the partner spoke
    recorder.typed(10.0)
    turn, opening = recorder.sent(at_s=10.0, chars=4)
    assert (turn.read_s, turn.intervals_s, turn.gap_s, opening) == (0.0, (), 0.0, False)


def test_the_recorder_refuses_a_send_before_its_last_typing_and_a_send_without_typing():
    recorder = TurnRecorder()
    recorder.chat_started(0.0)
    recorder.typed(3.0)
    assert recorder.sent(at_s=2.5, chars=4) is None
    recorder.chat_started(0.0)
    assert recorder.sent(at_s=5.0, chars=4) is None
    recorder.chat_started(1.0)
    recorder.typed(3.0)
    recorder.typed(4.5)
    turn, opening = recorder.sent(at_s=5.0, chars=4)
    assert (turn.read_s, turn.intervals_s, turn.gap_s, opening) == (2.0, (1.5,), 0.5, True)


def test_a_leaving_delay_counts_from_the_partners_last_message_only():
    recorder = TurnRecorder()
    assert recorder.left(5.0) is None
    recorder.partner_spoke(10.0)
    assert (recorder.left(9.0), recorder.left(10.0), recorder.left(12.5)) == (None, 0.0, 2.5)


def test_save_latency_moves_a_tenth_of_the_way_and_gives_the_bot_only_a_head_start():
    latency = SaveLatency()
    latency.note(bot=True, seconds=1.0)
    latency.note(bot=False, seconds=0.5)
    assert (latency.bot_s, latency.human_s) == (pytest.approx(0.1), pytest.approx(0.05))
    assert latency.bot_head_start_s == pytest.approx(0.05)
    latency.note(bot=False, seconds=10.0)
    assert latency.bot_head_start_s == 0.0


def test_the_default_match_hold_is_at_real_time_scale():
    rng = random.Random(16)
    hold, _spread = median_and_log_spread([match_wait_s(recorded=[], cap_s=1000, rng=rng) for _ in range(DRAWS)])
    assert hold == pytest.approx(5.0, rel=0.06)


@pytest.mark.parametrize("chars", [0, 1, 2, 30])
def test_without_a_throttle_every_keystroke_after_the_first_is_a_typing_interval(chars):
    turn = simulate_browser_turn(chars=chars, rng=random.Random(17), throttle_s=0.0)
    assert len(turn.intervals_s) == max(1, chars) - 1


def test_a_default_typist_reads_with_the_documented_spread_and_pauses_at_one_keystroke_in_twelve():
    rng = random.Random(18)
    typed = [simulate_browser_turn(chars=101, rng=rng, throttle_s=0.0) for _ in range(1500)]
    _median, read_spread = median_and_log_spread([turn.read_s for turn in typed])
    assert read_spread == pytest.approx(0.45, rel=0.06)
    # A keystroke takes 1 / speed on average (speed lognormal, median 3.5), plus 8 % of a 0.5-3 s pause.
    mean_step = statistics.mean(sum(turn.intervals_s) / 100 for turn in typed)
    assert mean_step == pytest.approx(math.exp(0.3**2 / 2) / 3.5 + 0.08 * 1.75, rel=0.06)


def test_save_latency_is_a_moving_average_of_each_kind():
    latency = SaveLatency()
    for seconds in (1.0, 2.0):
        latency.note(bot=True, seconds=seconds)
        latency.note(bot=False, seconds=seconds / 2)
    # 0.1 after the first, then 0.1 + 0.1 * (2 - 0.1); the human's is half of it.
    assert (latency.bot_s, latency.human_s) == (pytest.approx(0.29), pytest.approx(0.145))
