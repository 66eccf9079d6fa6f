import random

from chat.pacing import PacingSettings, TokenBucket, bot_reply_delay_seconds

PACING = PacingSettings(read_ms_per_char=25, type_ms_per_char=180, min_ms=1200, max_ms=20000, jitter=0.25)


def test_delay_grows_with_reply_length_and_stays_in_bounds():
    rng = random.Random(1)
    short = bot_reply_delay_seconds(prompt="hi", reply="ok", already_elapsed_s=0, pacing=PACING, rng=rng)
    longer = bot_reply_delay_seconds(prompt="hi", reply="x" * 60, already_elapsed_s=0, pacing=PACING, rng=rng)
    huge = bot_reply_delay_seconds(prompt="hi", reply="x" * 5000, already_elapsed_s=0, pacing=PACING, rng=rng)
    assert short == 1.2
    assert 60 * 0.180 * 0.75 <= longer <= 60 * 0.180 * 1.25
    assert huge == 20.0


def test_time_the_bot_already_took_counts_towards_the_delay():
    no_jitter = PacingSettings(read_ms_per_char=0, type_ms_per_char=100, min_ms=0, max_ms=10000, jitter=0)
    assert bot_reply_delay_seconds(prompt="", reply="x" * 30, already_elapsed_s=1.0, pacing=no_jitter) == 2.0
    assert bot_reply_delay_seconds(prompt="", reply="x" * 30, already_elapsed_s=5.0, pacing=no_jitter) == 0.0


def test_token_bucket_allows_a_burst_then_refills():
    bucket = TokenBucket(capacity=3, refill_per_second=1, updated_at=0.0)
    assert [bucket.take(now=0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(now=0.5) is False
    assert bucket.take(now=1.1) is True
