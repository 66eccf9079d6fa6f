"""Webhook signatures at their edges: the tolerance window, malformed secrets and headers, defaults."""

import re
import time

import pytest

from competitions import signing

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"test": 2432232314}'
STAMP = 1614265330


def headers(**overrides) -> dict:
    return signing.signed_headers(secret=SECRET, body=BODY, msg_id="msg_x", timestamp=STAMP) | overrides


def refusal(**kwargs) -> str:
    with pytest.raises(signing.WebhookVerificationError) as refused:
        signing.verify(**{"secret": SECRET, "headers": headers(), "body": BODY, "now": STAMP} | kwargs)
    return str(refused.value)


@pytest.mark.parametrize("skew", [-300, -299, 0, 299, 300])
def test_timestamps_within_the_tolerance_either_way_are_accepted(skew):
    signing.verify(secret=SECRET, headers=headers(), body=BODY, now=STAMP + skew)


@pytest.mark.parametrize("skew", [-301, 301, -300.5, 300.5])
def test_timestamps_just_outside_the_tolerance_are_refused_as_a_possible_replay(skew):
    assert refusal(now=STAMP + skew) == "webhook-timestamp is outside the tolerance window (possible replay)."


def test_the_tolerance_can_be_narrowed():
    signing.verify(secret=SECRET, headers=headers(), body=BODY, now=STAMP + 10, tolerance_seconds=10)
    assert "tolerance" in refusal(now=STAMP + 11, tolerance_seconds=10)


def test_without_now_the_current_time_is_used():
    fresh = signing.signed_headers(secret=SECRET, body=BODY)
    assert abs(int(fresh["webhook-timestamp"]) - time.time()) < 5
    signing.verify(secret=SECRET, headers=fresh, body=BODY)
    with pytest.raises(signing.WebhookVerificationError, match="tolerance"):
        signing.verify(secret=SECRET, headers=headers(), body=BODY)  # 2021's timestamp, checked against today


def test_a_fresh_message_id_is_msg_and_24_url_safe_characters():
    ids = {signing.new_message_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"msg_[A-Za-z0-9_-]{24}", msg_id) for msg_id in ids)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_or_empty_header_is_refused_with_the_exact_reason(missing):
    expected = "Missing webhook-id, webhook-timestamp or webhook-signature header."
    assert refusal(headers={k: v for k, v in headers().items() if k != missing}) == expected
    assert refusal(headers=headers(**{missing: ""})) == expected


@pytest.mark.parametrize("stamp", ["1614265330.0", "soon", " "])
def test_a_timestamp_that_is_not_an_integer_is_refused(stamp):
    assert refusal(headers=headers(**{"webhook-timestamp": stamp})) == "webhook-timestamp is not an integer."


def test_header_names_match_whatever_their_case():
    upper = {key.upper(): value for key, value in headers().items()}
    signing.verify(secret=SECRET, headers=upper, body=BODY, now=STAMP)


def test_a_wrong_signature_is_refused_and_another_matching_entry_is_enough():
    good = headers()["webhook-signature"]
    assert refusal(headers=headers(**{"webhook-signature": "v1,AAAA"})) == "No matching signature."
    assert refusal(body=BODY + b" ") == "No matching signature."
    signing.verify(secret=SECRET, headers=headers(**{"webhook-signature": f"v1,AAAA {good}"}), body=BODY, now=STAMP)


def test_only_v1_entries_count():
    digest = headers()["webhook-signature"].split(",", 1)[1]
    assert refusal(headers=headers(**{"webhook-signature": f"v2,{digest}"})) == "No matching signature."
    assert refusal(headers=headers(**{"webhook-signature": f"v1,v2,{digest}"})) == "No matching signature."


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_abc", "whsec_YWJj\n"])
def test_a_secret_that_is_not_strict_base64_is_refused(secret):
    with pytest.raises(ValueError) as refused:
        signing.secret_key(secret)
    assert str(refused.value) == "A signing secret is 'whsec_' followed by base64."


def test_the_whsec_prefix_is_optional():
    assert signing.secret_key("YWJj") == signing.secret_key("whsec_YWJj") == b"abc"
