from chat.typing_relay import TypingRelayLimit


def test_typing_relay_limit_lets_one_frame_through_per_interval():
    limit = TypingRelayLimit(interval_seconds=1.5)
    decisions = [limit.allow(now=t) for t in (0.0, 0.1, 1.0, 1.49, 1.5, 1.6, 3.0, 10.0)]
    assert decisions == [True, False, False, False, True, False, True, True]
