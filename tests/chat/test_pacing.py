from chat.pacing import TokenBucket


def test_token_bucket_allows_a_burst_then_refills():
    bucket = TokenBucket(capacity=3, refill_per_second=1, updated_at=0.0)
    assert [bucket.take(now=0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(now=0.5) is False
    assert bucket.take(now=1.1) is True
