"""The sample bots in examples/bots: real round trips through the platform's client, and their own checks."""

import json
import subprocess
import sys
import time

import httpx
import pytest

from competitions import signing
from competitions.bot_client import BotTarget, build_health_payload, build_turn_payload, call_bot
from tests.competitions.botserver import (
    EXAMPLES_DIR,
    TEST_SECRET,
    allow_loopback_fixture,  # noqa: F401 -- fixture
    fresh_client_fixture,  # noqa: F401 -- fixture
    load_example,
    sample_bot_server,
)

pytestmark = pytest.mark.usefixtures("fresh_client", "allow_loopback")


def history(*user_texts: str) -> list[dict]:
    return [{"role": "user", "text": text, "timestamp": "2026-05-01T10:00:00+00:00"} for text in user_texts]


async def ask(url: str, language: str, *user_texts: str) -> str:
    payload = build_turn_payload(
        conversation_id="3f1c", language=language, competition="turing-2026", messages=history(*user_texts)
    )
    result = await call_bot(BotTarget(bot_id=1, endpoint_url=url, signing_secret=TEST_SECRET), payload)
    assert result.ok, result.detail
    return result.reply


async def test_eliza_answers_in_english_with_reflection_over_http():
    with sample_bot_server("eliza", "eliza_reply") as url:
        reply = await ask(url, "en", "Hello", "I am unhappy about my job.")
    assert "unhappy" in reply
    assert reply != "I am unhappy about my job."


async def test_eliza_answers_in_korean_over_http():
    with sample_bot_server("eliza", "eliza_reply") as url:
        reply = await ask(url, "ko", "안녕하세요", "요즘 너무 우울해요")
    assert reply == "그런 기분이 드신다니 안타까워요."


async def test_persona_answers_in_both_languages_over_http():
    with sample_bot_server("persona", "persona_reply") as url:
        english = await ask(url, "en", "hi! are you a bot?")
        korean = await ask(url, "ko", "몇 살이에요?")
    assert "student" in english or "robot" in english or "bot" in english
    assert "21" in korean or "스물한" in korean


async def test_sample_bots_pass_the_health_probe():
    for module, responder in (("eliza", "eliza_reply"), ("persona", "persona_reply")):
        with sample_bot_server(module, responder) as url:
            target = BotTarget(bot_id=1, endpoint_url=url, signing_secret=TEST_SECRET)
            result = await call_bot(target, build_health_payload(language="ko"))
        assert result.ok, (module, result.detail)


def signed_post(url: str, body: bytes, *, secret: str = TEST_SECRET, timestamp: int | None = None, headers=None):
    headers = headers or signing.signed_headers(secret=secret, body=body, timestamp=timestamp)
    return httpx.post(url, content=body, headers=headers), headers


BODY = json.dumps(
    build_turn_payload(conversation_id="x", language="en", competition="c", messages=history("hello"))
).encode()


def test_sample_bot_rejects_unsigned_stale_replayed_and_wrongly_signed_requests():
    with sample_bot_server("eliza", "eliza_reply") as url:
        assert httpx.post(url, content=BODY).status_code == 401

        stale, _ = signed_post(url, BODY, timestamp=int(time.time()) - 301)
        assert stale.status_code == 401
        assert "five-minute" in stale.json()["error"]

        other_secret = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
        assert signed_post(url, BODY, secret=other_secret)[0].status_code == 401

        first, headers = signed_post(url, BODY)
        assert first.status_code == 200
        replay, _ = signed_post(url, BODY, headers=headers)
        assert replay.status_code == 401
        assert "replay" in replay.json()["error"]


def test_sample_verifier_accepts_the_standard_webhooks_vector():
    verify = load_example("webhook_verify")
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    verify.verify(TEST_SECRET, headers, b'{"test": 2432232314}', now=1614265330)
    with pytest.raises(verify.VerificationError):
        verify.verify(TEST_SECRET, headers, b'{"test": 1}', now=1614265330)


def test_eliza_reflects_pronouns_and_remembers_what_the_user_said_about_their_things():
    eliza_module = load_example("eliza")
    eliza = eliza_module.Eliza(eliza_module.SCRIPTS["en"])
    assert eliza.respond("Well, my boyfriend made me come here.") == "Your boyfriend made you come here?"
    assert eliza.respond("I am depressed much of the time.") == "I am sorry to hear that you are depressed."
    assert eliza.respond("xyzzy") == "Earlier you said your boyfriend made you come here."


def test_eliza_rotates_reassemblies_instead_of_repeating_itself():
    eliza_module = load_example("eliza")
    eliza = eliza_module.Eliza(eliza_module.SCRIPTS["en"])
    replies = [eliza.respond("Are you a computer?") for _ in range(3)]
    assert len(set(replies)) == 3


def test_korean_eliza_reflects_and_remembers():
    eliza_module = load_example("eliza")
    eliza = eliza_module.Eliza(eliza_module.SCRIPTS["ko"])
    assert eliza.respond("나는 학생이에요") == "'학생'(이)라서 저를 찾아오셨나요?"
    assert eliza.respond("내 친구가 이사를 갔어") == "당신의 친구요?"
    assert eliza.respond("음") == "아까 당신의 친구 이야기를 하셨죠. 조금 더 말해 줄래요?"


def test_eliza_is_stateless_across_requests():
    eliza_reply = load_example("eliza").eliza_reply
    payload = build_turn_payload(
        conversation_id="x", language="en", competition="c", messages=history("my cat is ill", "hmm")
    )
    assert eliza_reply(payload) == eliza_reply(payload) == "Earlier you said your cat is ill."


def test_persona_does_not_repeat_an_answer_it_already_gave():
    persona_reply = load_example("persona").persona_reply
    messages = history("how are you?")
    seen = set()
    for _ in range(3):
        payload = build_turn_payload(conversation_id="p", language="en", competition="c", messages=messages)
        reply = persona_reply(payload)
        assert reply not in seen
        seen.add(reply)
        messages = [*messages, {"role": "bot", "text": reply, "timestamp": "2026-05-01T10:00:01+00:00"}]
        messages = [*messages, *history("how are you?")]


def test_eliza_runs_from_the_command_line():
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES_DIR / "eliza.py"), "--port", "0", "--secret", TEST_SECRET],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip().removeprefix("listening on ")
        response, _ = signed_post(url, BODY)
        assert response.status_code == 200
        assert response.json()["reply"] == "How do you do. Please state your problem."
    finally:
        process.terminate()
        process.wait(timeout=5)
