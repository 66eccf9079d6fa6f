"""The bot client at its edges: HTTP status boundaries, size and length limits at, below and above the limit."""

import asyncio
import json
import re
import socket
import ssl
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpcore
import httpx
import pytest
from django.utils import timezone

from competitions import bot_client
from competitions.bot_client import (
    BotTarget,
    build_health_payload,
    build_turn_payload,
    call_bot,
    call_bot_sync,
    parse_reply,
)
from competitions.models import BotCall
from tests.competitions.botserver import (  # noqa: F401 -- fixtures
    TEST_SECRET,
    allow_loopback_fixture,
    fresh_client_fixture,
    running,
)

pytestmark = pytest.mark.usefixtures("fresh_client", "allow_loopback")

Failure = BotCall.Failure
REPLY = {"reply": "Hello."}


class ScriptedBot:
    """Answers /<status>/<body kind>/<n>: the status, and a body of exactly n bytes (or a reply of n characters)."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        bot = self
        self.requests = 0
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                bot.bodies.append(self.rfile.read(int(self.headers.get("content-length") or 0)))
                bot.requests += 1
                bot.headers.append({key.lower(): value for key, value in self.headers.items()})
                status, kind, size = re.fullmatch(r"/(\d+)/(\w+)/(\d+)", self.path).groups()
                size = int(size)
                if kind == "reply":
                    body = json.dumps({"reply": "r" * size}).encode()
                else:
                    # A JSON object padded to exactly ``size`` bytes.
                    prefix = b'{"reply": "Hello.", "pad": "'
                    body = prefix + b"p" * (size - len(prefix) - 2) + b'"}'
                    assert len(body) == size
                self.send_response(int(status))
                self.send_header("content-type", "application/json")
                if kind == "chunked":
                    self.send_header("transfer-encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(body), 40):
                        piece = body[start : start + 40]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def log_message(self, format: str, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def url(self, status: int, kind: str = "padded", size: int = 60) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{status}/{kind}/{size}"


@pytest.fixture
def scripted_bot() -> Iterator[ScriptedBot]:
    bot = ScriptedBot()
    with running(bot.server):
        yield bot


def payload() -> dict:
    return build_turn_payload(conversation_id="c0ffee", language="en", competition="turing-2026", messages=[])


async def call(url: str):
    return await call_bot(BotTarget(bot_id=1, endpoint_url=url, signing_secret=TEST_SECRET), payload())


@pytest.mark.parametrize("status", [200, 201, 203, 299])
async def test_every_2xx_status_with_a_valid_reply_succeeds(scripted_bot, status):
    result = await call(scripted_bot.url(status))
    assert result.ok, result.detail
    assert (result.reply, result.status_code, result.failure_kind) == ("Hello.", status, "")


@pytest.mark.parametrize("status", [300, 304, 399])
async def test_3xx_statuses_are_refused_as_redirects_even_without_a_location(scripted_bot, status):
    result = await call(scripted_bot.url(status))
    assert not result.ok
    assert (result.failure_kind, result.status_code, result.reply) == (Failure.REDIRECT, status, None)
    assert result.detail == f"HTTP {status} redirect to ''; redirects are not followed."


@pytest.mark.parametrize("status", [400, 401, 422, 499, 500, 503, 599])
async def test_4xx_and_5xx_fail_even_with_a_valid_reply_in_the_body(scripted_bot, status):
    result = await call(scripted_bot.url(status))
    assert not result.ok
    assert (result.failure_kind, result.status_code, result.reply) == (Failure.HTTP_STATUS, status, None)
    assert result.detail == f"The bot answered HTTP {status}."


@pytest.mark.parametrize("kind", ["padded", "chunked"])
@pytest.mark.parametrize(("size", "ok"), [(199, True), (200, True), (201, False)])
async def test_response_size_limit_at_below_and_above(scripted_bot, settings, kind, size, ok):
    settings.BOT_MAX_RESPONSE_BYTES = 200
    result = await call(scripted_bot.url(200, kind, size))
    assert result.ok is ok, result.detail
    if not ok:
        assert (result.failure_kind, result.status_code) == (Failure.TOO_LARGE, 200)
        assert result.detail == "The response body is larger than 200 bytes."


@pytest.mark.parametrize(("length", "ok"), [(49, True), (50, True), (51, False)])
async def test_reply_length_limit_at_below_and_above(scripted_bot, settings, length, ok):
    settings.BOT_MAX_REPLY_CHARS = 50
    result = await call(scripted_bot.url(200, "reply", length))
    assert result.ok is ok, result.detail
    if ok:
        assert result.reply == "r" * length
    else:
        assert (result.failure_kind, result.status_code) == (Failure.TOO_LONG, 200)
        assert result.detail == f'The "reply" has {length} characters; the limit is 50.'


def test_reply_length_counts_characters_after_stripping(settings):
    settings.BOT_MAX_REPLY_CHARS = 5
    assert parse_reply(json.dumps({"reply": "  héllo  "}).encode()) == "héllo"
    assert parse_reply(json.dumps({"reply": "héllo!"}).encode())[0] == Failure.TOO_LONG


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"[]", Failure.BAD_SHAPE),
        (b'["reply"]', Failure.BAD_SHAPE),
        (b'{"reply": 5}', Failure.BAD_SHAPE),
        (b'{"reply": null}', Failure.BAD_SHAPE),
        (b'{"reply": ""}', Failure.EMPTY),
        (b'{"reply": "\\n\\t "}', Failure.EMPTY),
        (b"", Failure.BAD_JSON),
    ],
)
def test_bodies_that_are_not_a_reply_are_refused_with_their_kind(body, kind):
    outcome = parse_reply(body)
    assert isinstance(outcome, tuple)
    assert outcome[0] == kind


def test_the_failure_detail_quotes_the_start_of_a_non_json_body():
    kind, detail = parse_reply(b"<html>" + b"x" * 200)
    assert kind == Failure.BAD_JSON
    assert detail.endswith(repr("<html>" + "x" * 74))


def test_failure_details_for_a_shape_or_an_empty_reply_are_exact():
    assert parse_reply(b"[]") == (
        Failure.BAD_SHAPE,
        'The response must be a JSON object with a string "reply", e.g. {"reply": "Hi!"}.',
    )
    assert parse_reply(b'{"reply": " "}') == (Failure.EMPTY, 'The "reply" is empty.')


async def test_a_declared_oversized_body_is_refused_without_waiting_for_it(settings):
    """The bot declares more than the limit and then stalls: the declaration alone is enough to refuse."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Stalling(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(200)
            self.send_header("content-length", "201")
            self.end_headers()
            self.wfile.write(b'{"reply": "')
            self.wfile.flush()
            time.sleep(3.5)

        def log_message(self, format: str, *args) -> None:
            pass

    settings.BOT_MAX_RESPONSE_BYTES = 200
    settings.BOT_READ_TIMEOUT = 3.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stalling)
    with running(server):
        result = await call(f"http://127.0.0.1:{server.server_address[1]}/")
    assert (result.failure_kind, result.status_code) == (Failure.TOO_LARGE, 200)
    assert result.latency_ms < 2000  # waiting would take the 3 s read timeout


async def test_the_latency_of_a_failure_is_in_milliseconds(scripted_bot, settings):
    settings.BOT_READ_TIMEOUT = 0.3
    settings.BOT_TOTAL_TIMEOUT = 5
    with socket.socket() as listener:  # accepts the connection, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        result = await call(f"http://127.0.0.1:{listener.getsockname()[1]}/")
    assert result.failure_kind == Failure.TIMEOUT
    assert 250 <= result.latency_ms < 3000


def test_the_sync_call_passes_its_options_on(scripted_bot, settings):
    target = BotTarget(bot_id=1, endpoint_url=scripted_bot.url(200), signing_secret=TEST_SECRET)
    assert call_bot_sync(target, payload()).ok
    assert json.loads(scripted_bot.bodies[0]) == payload()
    refused = call_bot_sync(target, payload(), allowed_networks=[])
    assert refused.failure_kind == Failure.BLOCKED
    assert scripted_bot.requests == 1


def test_the_health_probe_defaults_to_english_and_no_competition():
    payload = build_health_payload()
    assert (payload["kind"], payload["language"], payload["competition"]) == ("health", "en", "")
    (message,) = payload["messages"]
    assert set(message) == {"role", "text", "timestamp"}
    assert abs(datetime.fromisoformat(message["timestamp"]) - timezone.now()) < timedelta(seconds=5)
    assert build_health_payload(language="de", competition="turing")["competition"] == "turing"


def test_a_success_has_no_detail_and_its_latency_in_milliseconds(scripted_bot):
    async def measure():
        started = time.perf_counter()
        result = await call(scripted_bot.url(200))
        return result, (time.perf_counter() - started) * 1000

    result, elapsed_ms = asyncio.run(measure())
    assert (result.ok, result.detail, result.failure_kind) == (True, "", "")
    assert 0.05 < result.latency_ms <= elapsed_ms


def test_the_body_is_compact_utf8_json(scripted_bot):
    message = {"role": "user", "text": '안녕, "bot"', "timestamp": "2026-05-01T10:00:00+00:00"}
    body_payload = build_turn_payload(conversation_id="c", language="ko", competition="t", messages=[message])
    target = BotTarget(bot_id=1, endpoint_url=scripted_bot.url(200), signing_secret=TEST_SECRET)
    assert call_bot_sync(target, body_payload).ok
    assert scripted_bot.bodies[0] == json.dumps(body_payload, ensure_ascii=False, separators=(",", ":")).encode()
    assert "안녕".encode() in scripted_bot.bodies[0]
    sent = scripted_bot.headers[0]
    assert (sent["user-agent"], sent["content-type"]) == ("HuLiC-bot-client/1", "application/json")


async def test_a_timeout_names_every_limit(settings):
    settings.BOT_CONNECT_TIMEOUT = 1.0
    settings.BOT_READ_TIMEOUT = 0.3
    settings.BOT_TOTAL_TIMEOUT = 5
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        result = await call(f"http://127.0.0.1:{listener.getsockname()[1]}/")
    assert result.detail == "No answer within the time limit (connect 1 s, read 0.3 s, total 5 s)."


async def test_a_connection_closed_without_an_answer_is_an_error_not_a_crash():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        async def hang_up():
            loop = asyncio.get_running_loop()
            listener.setblocking(False)
            connection, _ = await loop.sock_accept(listener)
            await loop.sock_recv(connection, 65536)
            connection.close()

        closer = asyncio.create_task(hang_up())
        result = await call(f"http://127.0.0.1:{port}/")
        await closer
    assert (result.ok, result.failure_kind, result.status_code) == (False, Failure.ERROR, None)
    assert result.detail.startswith("HTTP error talking to the bot: RemoteProtocolError: ")
    assert result.latency_ms > 0


# What the pinned connection is given: httpcore's options passed on, the checked address, the default port.

PUBLIC_ADDRESS = "93.184.216.34"


async def public_resolver(host: str, port: int) -> list[str]:
    return [PUBLIC_ADDRESS]


@pytest.fixture
def recorded_connects(monkeypatch) -> list[tuple]:
    """Every connection the pinned backend opens, recorded instead of made (it then fails like a refused port)."""
    connects: list[tuple] = []

    async def record(self, host, port, timeout=None, local_address=None, socket_options=None):
        connects.append((host, port, timeout, local_address, socket_options))
        raise httpcore.ConnectError("")

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", record)
    return connects


async def test_the_pinned_backend_passes_every_connect_option_on_to_the_checked_address(recorded_connects):
    options = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    pin = bot_client._pinned_addresses.set({("bot.example", 8443): PUBLIC_ADDRESS})
    try:
        with pytest.raises(httpcore.ConnectError):
            await bot_client.PinnedBackend().connect_tcp(
                "bot.example", 8443, timeout=2.5, local_address="0.0.0.0", socket_options=options
            )
    finally:
        bot_client._pinned_addresses.reset(pin)
    assert recorded_connects == [(PUBLIC_ADDRESS, 8443, 2.5, "0.0.0.0", options)]


@pytest.mark.parametrize(("url", "port"), [("http://bot.example/turn", 80), ("https://bot.example/turn", 443)])
async def test_a_url_without_a_port_connects_to_the_checked_address_on_the_default_port(
    settings, recorded_connects, url, port
):
    settings.BOT_CONNECT_TIMEOUT = 2.5
    result = await call_bot(
        BotTarget(bot_id=1, endpoint_url=url, signing_secret=TEST_SECRET), payload(), resolver=public_resolver
    )
    assert recorded_connects == [(PUBLIC_ADDRESS, port, 2.5, None, None)]
    assert result.failure_kind == Failure.REFUSED


async def test_a_call_that_cannot_be_signed_fails_as_an_error_before_any_connection(scripted_bot):
    target = BotTarget(bot_id=1, endpoint_url=scripted_bot.url(200), signing_secret="not-a-secret")
    result = await call_bot(target, payload())
    assert (result.ok, result.failure_kind, result.status_code) == (False, Failure.ERROR, None)
    assert result.detail == "The call could not be made: A signing secret is 'whsec_' followed by base64.."
    assert scripted_bot.requests == 0


def test_the_client_never_follows_redirects_nor_reads_proxy_settings_and_bounds_each_phase(settings):
    """The pool's sizes and TLS settings have no cheap observable effect (500 connections, a trusted certificate),
    so they are read back here; a changed figure must be a decision, not an accident."""
    settings.BOT_CONNECT_TIMEOUT, settings.BOT_READ_TIMEOUT = 2.5, 7.0
    client = bot_client._new_client()
    assert (client.follow_redirects, client.trust_env) == (False, False)
    assert client.timeout == httpx.Timeout(connect=2.5, read=7.0, write=7.0, pool=2.5)
    pool = client._transport._pool
    assert (pool._max_connections, pool._max_keepalive_connections, pool._keepalive_expiry) == (500, 100, 30.0)
    assert pool._ssl_context.verify_mode == ssl.CERT_REQUIRED and pool._ssl_context.check_hostname
    assert isinstance(pool._network_backend, bot_client.PinnedBackend)


def test_latency_is_the_elapsed_clock_time_in_milliseconds(monkeypatch):
    class Clock:
        readings = iter([10.0, 10.25])

        @staticmethod
        def perf_counter() -> float:
            return next(Clock.readings)

    monkeypatch.setattr(bot_client, "time", Clock)
    assert bot_client._failure(Failure.ERROR, "x", started=10.0).latency_ms == 0.0
    assert bot_client._failure(Failure.ERROR, "x", started=10.0).latency_ms == 250.0


async def test_a_successful_call_measures_its_latency_in_milliseconds(scripted_bot, monkeypatch):
    class Clock:
        readings = [100.0]

        @staticmethod
        def perf_counter() -> float:
            Clock.readings.append(Clock.readings[-1] + 0.125)
            return Clock.readings[-2]

    monkeypatch.setattr(bot_client, "time", Clock)
    result = await call(scripted_bot.url(200))
    assert result.ok
    assert result.latency_ms == 125.0


async def test_a_connection_error_without_a_message_still_says_the_connection_failed(recorded_connects):
    result = await call_bot(
        BotTarget(bot_id=1, endpoint_url="http://bot.example/", signing_secret=TEST_SECRET),
        payload(),
        resolver=public_resolver,
    )
    assert (result.failure_kind, result.detail) == (Failure.REFUSED, "Could not connect to the bot: connection failed.")


def test_the_previous_secret_adds_a_second_signature_only_while_there_is_one(scripted_bot):
    from competitions import signing

    previous = "whsec_" + "cHJldmlvdXMtc2VjcmV0LWZvci10ZXN0cw=="
    plain = BotTarget(bot_id=1, endpoint_url=scripted_bot.url(200), signing_secret=TEST_SECRET)
    rotating = BotTarget(
        bot_id=1, endpoint_url=scripted_bot.url(200), signing_secret=TEST_SECRET, previous_signing_secret=previous
    )
    assert call_bot_sync(plain, payload()).ok and call_bot_sync(rotating, payload()).ok
    single, double = (headers["webhook-signature"].split(" ") for headers in scripted_bot.headers)
    assert (len(single), len(double)) == (1, 2)
    for secret in (TEST_SECRET, previous):
        signing.verify(secret=secret, headers=scripted_bot.headers[1], body=scripted_bot.bodies[1])
    with pytest.raises(signing.WebhookVerificationError):
        signing.verify(secret=previous, headers=scripted_bot.headers[0], body=scripted_bot.bodies[0])


def test_a_turn_names_the_chats_character_limit_only_when_it_has_one():
    limited = build_turn_payload(conversation_id="c", language="en", competition="t", messages=[], max_chars=280)
    assert limited["max_chars"] == 280
    assert "max_chars" not in payload()
    assert (
        build_turn_payload(conversation_id="c", language="en", competition="t", messages=[], max_chars=0)["max_chars"]
        == 0
    )
