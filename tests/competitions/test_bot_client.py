"""The bot client against real HTTP servers on loopback: every outcome comes back as a BotResult."""

import asyncio
import json
import socket

import httpx
import pytest

from competitions import bot_client, signing
from competitions.bot_client import BotTarget, build_health_payload, build_turn_payload, call_bot
from competitions.models import BotCall
from tests.competitions.botserver import (  # noqa: F401 -- fixtures
    TEST_SECRET,
    allow_loopback_fixture,
    fresh_client_fixture,
    misbehaving_bot_server,
    test_bot_fixture,
)

pytestmark = pytest.mark.usefixtures("fresh_client", "allow_loopback")

MESSAGES = [
    {"role": "user", "text": "Hi there!", "timestamp": "2026-05-01T10:00:00+00:00"},
    {"role": "bot", "text": "Hello.", "timestamp": "2026-05-01T10:00:02+00:00"},
    {"role": "user", "text": "How are you?", "timestamp": "2026-05-01T10:00:05+00:00"},
]


def turn_payload() -> dict:
    return build_turn_payload(conversation_id="c0ffee", language="en", competition="turing-2026", messages=MESSAGES)


def target(url: str, bot_id: int = 1) -> BotTarget:
    return BotTarget(bot_id=bot_id, endpoint_url=url, signing_secret=TEST_SECRET)


def recording_resolver(*answers: list[str]):
    """Answers the given address lists in turn (the last one repeats) and records each question."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers[min(len(asked), len(answers)) - 1]

    resolve.asked = asked
    return resolve


async def test_successful_call_returns_the_stripped_reply(test_bot):
    result = await call_bot(target(test_bot.url("/ok")), turn_payload())
    assert result.ok, result.detail
    assert result.reply == "Hello from the test bot."
    assert result.status_code == 200
    assert result.failure_kind == ""
    assert result.latency_ms > 0


async def test_request_is_signed_the_standard_webhooks_way_and_carries_the_payload(test_bot):
    await call_bot(target(test_bot.url("/ok")), turn_payload())
    request = test_bot.requests[-1]
    signing.verify(secret=TEST_SECRET, headers=request.headers, body=request.body)
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {
        "version": 1,
        "kind": "turn",
        "conversation_id": "c0ffee",
        "language": "en",
        "competition": "turing-2026",
        "mode": "two_party",
        "messages": MESSAGES,
    }


async def test_each_request_gets_a_fresh_webhook_id(test_bot):
    for _ in range(3):
        await call_bot(target(test_bot.url("/ok")), turn_payload())
    assert len({request.headers["webhook-id"] for request in test_bot.requests}) == 3


def test_health_payload_is_a_fixed_probe():
    payload = build_health_payload(language="ko", competition="turing-2026")
    assert payload["kind"] == "health"
    assert payload["conversation_id"] == "healthcheck"
    assert payload["language"] == "ko"
    assert [m["role"] for m in payload["messages"]] == ["user"]
    assert payload["messages"][0]["text"] == bot_client.HEALTH_PROBE_TEXT


@pytest.mark.parametrize(
    ("path", "failure_kind", "status_code", "detail_fragment"),
    [
        ("/error", BotCall.Failure.HTTP_STATUS, 500, "HTTP 500"),
        ("/not-found", BotCall.Failure.HTTP_STATUS, 404, "HTTP 404"),
        ("/garbage", BotCall.Failure.BAD_JSON, 200, "not valid JSON"),
        ("/no-reply-key", BotCall.Failure.BAD_SHAPE, 200, '"reply"'),
        ("/huge", BotCall.Failure.TOO_LARGE, 200, "larger than"),
        ("/empty", BotCall.Failure.EMPTY, 200, "empty"),
        ("/long", BotCall.Failure.TOO_LONG, 200, "5000 characters"),
        ("/bad-utf8", BotCall.Failure.BAD_ENCODING, 200, "UTF-8"),
        ("/nul", BotCall.Failure.BAD_TEXT, 200, "U+0000 at character 3"),
        ("/lone-surrogate", BotCall.Failure.BAD_TEXT, 200, "U+D800 at character 4"),
        ("/redirect", BotCall.Failure.REDIRECT, 302, "not followed"),
    ],
)
async def test_bot_failures_are_returned_not_raised(test_bot, path, failure_kind, status_code, detail_fragment):
    result = await call_bot(target(test_bot.url(path)), turn_payload())
    assert not result.ok
    assert result.reply is None
    assert result.failure_kind == failure_kind
    assert result.status_code == status_code
    assert detail_fragment in result.detail


async def test_redirect_to_the_metadata_address_is_not_followed(test_bot):
    resolver = recording_resolver(["127.0.0.1"])
    result = await call_bot(target(test_bot.url("/redirect")), turn_payload(), resolver=resolver)
    assert result.failure_kind == BotCall.Failure.REDIRECT
    assert "169.254.169.254" in result.detail
    assert resolver.asked == ["127.0.0.1"]
    assert len(test_bot.requests) == 1


async def test_slow_bot_times_out(test_bot, settings):
    settings.BOT_READ_TIMEOUT = 0.2
    settings.BOT_TOTAL_TIMEOUT = 5
    # Well before the bot's answer, with room for a loaded machine (a mutation run measured 1.2 s for 0.2 s).
    test_bot.slow_seconds = 3.0
    result = await call_bot(target(test_bot.url("/slow")), turn_payload())
    assert result.failure_kind == BotCall.Failure.TIMEOUT
    assert result.latency_ms < 2500


async def test_total_timeout_bounds_the_whole_call(test_bot, settings):
    settings.BOT_READ_TIMEOUT = 10
    settings.BOT_TOTAL_TIMEOUT = 0.2
    test_bot.slow_seconds = 1.0
    result = await call_bot(target(test_bot.url("/slow")), turn_payload())
    assert result.failure_kind == BotCall.Failure.TIMEOUT
    assert "total 0.2 s" in result.detail


async def test_closed_port_is_reported_as_refused():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await call_bot(target(f"http://127.0.0.1:{port}/"), turn_payload())
    assert result.failure_kind == BotCall.Failure.REFUSED
    assert "Could not connect" in result.detail


async def test_private_endpoint_is_blocked_before_any_connection(test_bot, settings):
    settings.BOT_ALLOWED_NETWORKS = []
    result = await call_bot(target(test_bot.url("/ok")), turn_payload())
    assert result.failure_kind == BotCall.Failure.BLOCKED
    assert "127.0.0.1" in result.detail
    assert test_bot.requests == []


@pytest.mark.parametrize("url", ["http://2130706433:1/", "http://0x7f000001:1/", "http://[::ffff:127.0.0.1]:1/"])
async def test_odd_loopback_spellings_are_blocked(settings, url):
    settings.BOT_ALLOWED_NETWORKS = []
    result = await call_bot(target(url), turn_payload())
    assert result.failure_kind == BotCall.Failure.BLOCKED


async def test_non_http_endpoint_is_blocked():
    result = await call_bot(target("file:///etc/passwd"), turn_payload())
    assert result.failure_kind == BotCall.Failure.BLOCKED


async def test_rebinding_resolver_with_a_private_second_address_is_refused(test_bot):
    resolver = recording_resolver(["127.0.0.1", "127.0.0.2"])
    url = test_bot.url("/ok", host="bot.test")
    result = await call_bot(target(url), turn_payload(), resolver=resolver, allowed_networks=["127.0.0.1/32"])
    assert result.failure_kind == BotCall.Failure.BLOCKED
    assert "127.0.0.2" in result.detail
    assert test_bot.requests == []


async def test_connection_goes_to_the_checked_address_with_the_original_host_header(test_bot):
    # The first answer is checked and used; a later answer (rebinding) must not be consulted for that connection.
    resolver = recording_resolver(["127.0.0.1"], ["127.0.0.2"])
    url = test_bot.url("/echo-host", host="bot.test")
    result = await call_bot(target(url), turn_payload(), resolver=resolver, allowed_networks=["127.0.0.1/32"])
    assert result.ok, result.detail
    assert result.reply == f"bot.test:{test_bot.port}"
    assert resolver.asked == ["bot.test"]
    assert test_bot.requests[-1].client_address == "127.0.0.1"

    rebound = await call_bot(target(url), turn_payload(), resolver=resolver, allowed_networks=["127.0.0.1/32"])
    assert rebound.failure_kind == BotCall.Failure.BLOCKED
    assert len(test_bot.requests) == 1


async def test_ipv6_loopback_endpoint_is_called_when_allow_listed():
    with misbehaving_bot_server(host="::1") as bot:
        result = await call_bot(target(f"http://[::1]:{bot.port}/ok"), turn_payload())
    assert result.ok, result.detail
    assert bot.requests[-1].client_address == "::1"


async def test_upper_case_host_names_are_pinned_like_httpx_spells_them(test_bot):
    resolver = recording_resolver(["127.0.0.1"])
    url = test_bot.url("/echo-host", host="Bot.TEST")
    result = await call_bot(target(url), turn_payload(), resolver=resolver, allowed_networks=["127.0.0.1/32"])
    assert result.ok, result.detail
    assert result.reply.lower() == f"bot.test:{test_bot.port}"


async def test_pooled_client_refuses_hosts_the_guard_did_not_check(test_bot):
    client = bot_client._loop_state().client_for(1)
    with pytest.raises(httpx.ConnectError, match="not checked"):
        await client.post(test_bot.url("/ok", host="localhost"), content=b"{}")
    assert test_bot.requests == []


async def test_concurrency_per_bot_is_bounded(test_bot, settings):
    settings.BOT_MAX_CONCURRENCY = 2
    test_bot.slow_seconds = 0.15
    results = await asyncio.gather(
        *(call_bot(target(test_bot.url("/slow"), bot_id=77), turn_payload()) for _ in range(6))
    )
    assert all(result.ok for result in results)
    assert test_bot.max_active == 2


async def test_one_pooled_client_per_bot_is_reused_within_a_loop(test_bot):
    await call_bot(target(test_bot.url("/ok"), bot_id=1), turn_payload())
    first = bot_client._loop_state().client_for(1)
    await call_bot(target(test_bot.url("/ok"), bot_id=1), turn_payload())
    await call_bot(target(test_bot.url("/ok"), bot_id=2), turn_payload())
    assert bot_client._loop_state().client_for(1) is first
    assert bot_client._loop_state().client_for(2) is not first
    assert len({request.headers.get("webhook-id") for request in test_bot.requests}) == 3


def test_sync_calls_use_a_private_loop_and_close_its_client(test_bot, allow_loopback):
    # Other tests' loops may still hold clients; the sync calls must not add any.
    before = set(bot_client._loop_states.keys())
    first = bot_client.call_bot_sync(target(test_bot.url("/ok")), turn_payload())
    second = bot_client.call_bot_sync(target(test_bot.url("/ok")), turn_payload())
    assert first.ok and second.ok
    assert set(bot_client._loop_states.keys()) <= before


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Hello!", None),
        ("", BotCall.Failure.EMPTY),
        ("x" * 11, BotCall.Failure.TOO_LONG),
        ("a\x00b", BotCall.Failure.BAD_TEXT),
        ("\ud800", BotCall.Failure.BAD_TEXT),
        ("emoji 😀 and 한국어 are fine", None),
    ],
)
def test_reply_text_problem_names_the_failure_kind(reply, expected):
    problem = bot_client.reply_text_problem(reply, max_chars=40 if expected is None else 10)
    assert (problem[0] if problem else None) == expected
