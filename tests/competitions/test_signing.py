import pytest

from competitions import signing

# The Standard Webhooks reference libraries' test vector.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def vector_headers(signature: str = VECTOR_SIGNATURE, timestamp: int = VECTOR_TIMESTAMP) -> dict:
    return {"webhook-id": VECTOR_ID, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def test_sign_reproduces_the_standard_webhooks_test_vector():
    key = signing.secret_key(VECTOR_SECRET)
    assert signing.sign(key=key, msg_id=VECTOR_ID, timestamp=VECTOR_TIMESTAMP, body=VECTOR_BODY) == VECTOR_SIGNATURE


def test_signed_headers_carry_id_timestamp_and_signature():
    headers = signing.signed_headers(
        secret=VECTOR_SECRET, body=VECTOR_BODY, msg_id=VECTOR_ID, timestamp=VECTOR_TIMESTAMP
    )
    assert headers == vector_headers()


def test_verify_accepts_the_vector_within_the_tolerance_window():
    signing.verify(secret=VECTOR_SECRET, headers=vector_headers(), body=VECTOR_BODY, now=VECTOR_TIMESTAMP + 299)


def test_verify_accepts_any_matching_signature_among_several():
    headers = vector_headers(signature=f"v1,bm9wZQ== v2,abc {VECTOR_SIGNATURE}")
    signing.verify(secret=VECTOR_SECRET, headers=headers, body=VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_verify_matches_header_names_case_insensitively():
    headers = {key.upper(): value for key, value in vector_headers().items()}
    signing.verify(secret=VECTOR_SECRET, headers=headers, body=VECTOR_BODY, now=VECTOR_TIMESTAMP)


@pytest.mark.parametrize("offset", [-301, 301, 10_000])
def test_verify_refuses_a_stale_or_future_timestamp(offset):
    with pytest.raises(signing.WebhookVerificationError, match="tolerance"):
        signing.verify(secret=VECTOR_SECRET, headers=vector_headers(), body=VECTOR_BODY, now=VECTOR_TIMESTAMP + offset)


def test_verify_refuses_a_tampered_body():
    with pytest.raises(signing.WebhookVerificationError, match="No matching signature"):
        signing.verify(secret=VECTOR_SECRET, headers=vector_headers(), body=b'{"test": 1}', now=VECTOR_TIMESTAMP)


def test_verify_refuses_another_secret():
    other = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    with pytest.raises(signing.WebhookVerificationError):
        signing.verify(secret=other, headers=vector_headers(), body=VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_verify_refuses_a_signature_moved_to_another_timestamp():
    headers = vector_headers(timestamp=VECTOR_TIMESTAMP + 1)
    with pytest.raises(signing.WebhookVerificationError, match="No matching signature"):
        signing.verify(secret=VECTOR_SECRET, headers=headers, body=VECTOR_BODY, now=VECTOR_TIMESTAMP)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_verify_refuses_missing_headers(missing):
    headers = vector_headers()
    del headers[missing]
    with pytest.raises(signing.WebhookVerificationError, match="Missing"):
        signing.verify(secret=VECTOR_SECRET, headers=headers, body=VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_secret_without_base64_is_refused():
    with pytest.raises(ValueError, match="base64"):
        signing.secret_key("whsec_not base64!")


def test_new_message_ids_are_unique():
    assert len({signing.new_message_id() for _ in range(100)}) == 100
