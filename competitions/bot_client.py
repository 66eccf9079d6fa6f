"""Calls to team bots over the v1 webhook protocol (docs/bot-protocol.md).

One pooled httpx.AsyncClient per bot and event loop: the ASGI server runs one long-lived loop and reuses a bot's
client for every chat turn of that bot; sync callers (Celery health checks, checkbot) run a short-lived loop through
``call_bot_sync`` and close that loop's clients at the end. Every connection goes to an address checked by
competitions.netguard: the resolved, checked address is handed to the connection backend through a context
variable, so DNS is not consulted again between the check and the connect (no rebinding), while TLS still verifies
the original host name.
"""

import asyncio
import contextvars
import json
import sys
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpcore
import httpx
from django.conf import settings
from django.utils import timezone

from competitions import netguard, signing
from competitions.models import BotCall
from hulic.storable_text import unstorable_text_reason

try:
    import sniffio  # noqa: F401 -- only to learn whether it is installed
except ImportError:
    # httpcore imports sniffio four times a request to learn the async library and takes asyncio when it is absent;
    # each failed import searched sys.path again, a twelfth of a busy chat process's CPU (docs/three-party.md,
    # "Load"). None in sys.modules makes the import fail at once, with the same outcome.
    sys.modules["sniffio"] = None

PROTOCOL_VERSION = 1
HEALTH_CONVERSATION_ID = "healthcheck"
HEALTH_PROBE_TEXT = "Hello! This is a HuLiC health check. Please reply to this message."
USER_AGENT = "HuLiC-bot-client/1"

Failure = BotCall.Failure


@dataclass(frozen=True)
class BotTarget:
    bot_id: int
    endpoint_url: str
    signing_secret: str = field(repr=False)
    # The secret before a rotation, during its grace period: it signs too (a second signature).
    previous_signing_secret: str = field(default="", repr=False)


@dataclass(frozen=True)
class BotResult:
    ok: bool
    reply: str | None
    latency_ms: float
    status_code: int | None
    failure_kind: str
    detail: str


def build_turn_payload(
    *,
    conversation_id: str,
    language: str,
    competition: str,
    messages: list[dict],
    max_chars: int | None = None,
    mode: str = "two_party",
) -> dict:
    """``mode`` is "two_party" or "three_party" (the bot is one of two witnesses an interrogator talks to)."""
    payload = {
        "version": PROTOCOL_VERSION,
        "kind": "turn",
        "conversation_id": conversation_id,
        "language": language,
        "competition": competition,
        "mode": mode,
        "messages": messages,
    }
    if max_chars is not None:
        payload["max_chars"] = max_chars
    return payload


def build_health_payload(*, language: str = "en", competition: str = "") -> dict:
    payload = build_turn_payload(
        conversation_id=HEALTH_CONVERSATION_ID,
        language=language,
        competition=competition,
        messages=[{"role": "user", "text": HEALTH_PROBE_TEXT, "timestamp": timezone.now().isoformat()}],
    )
    payload["kind"] = "health"
    return payload


_pinned_addresses: contextvars.ContextVar[dict[tuple[str, int], str]] = contextvars.ContextVar("pinned_addresses")


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects to the address netguard checked for this request, never to a fresh DNS answer."""

    def __init__(self) -> None:
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        address = _pinned_addresses.get({}).get((host, port))
        if address is None:
            raise httpcore.ConnectError(f"{host}:{port} was not checked by the address guard.")
        return await self._backend.connect_tcp(address, port, timeout, local_address, socket_options)

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("Unix sockets are not bot endpoints.")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def _new_client() -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport()
    # httpx has no public hook for the network backend; the pool below is what it would build, plus the pinning.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=500,
        max_keepalive_connections=100,
        keepalive_expiry=30.0,
        network_backend=PinnedBackend(),
    )
    return httpx.AsyncClient(
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(
            connect=settings.BOT_CONNECT_TIMEOUT,
            read=settings.BOT_READ_TIMEOUT,
            write=settings.BOT_READ_TIMEOUT,
            pool=settings.BOT_CONNECT_TIMEOUT,
        ),
        headers={"user-agent": USER_AGENT, "content-type": "application/json"},
    )


@dataclass
class _LoopState:
    # A pool per bot: httpcore checks every connection of a pool (a poll each) on every request and response, so
    # with one pool for all bots each call cost more the more bots were busy (docs/three-party.md, "Load").
    clients: dict[int, httpx.AsyncClient] = field(default_factory=dict)
    semaphores: dict[int, asyncio.Semaphore] = field(default_factory=dict)

    def client_for(self, bot_id: int) -> httpx.AsyncClient:
        client = self.clients.get(bot_id)
        if client is None or client.is_closed:
            client = self.clients[bot_id] = _new_client()
        return client


# Clients and semaphores are bound to the loop they were first used in, so each loop gets its own.
_loop_states: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState]" = weakref.WeakKeyDictionary()


def _loop_state() -> _LoopState:
    loop = asyncio.get_running_loop()
    state = _loop_states.get(loop)
    if state is None:
        state = _loop_states[loop] = _LoopState()
    return state


async def close_client() -> None:
    """Close the running loop's clients (call before a short-lived loop ends)."""
    state = _loop_states.pop(asyncio.get_running_loop(), None)
    if state is not None:
        for client in state.clients.values():
            await client.aclose()


def _failure(kind: str, detail: str, started: float, status_code: int | None = None) -> BotResult:
    return BotResult(
        ok=False,
        reply=None,
        latency_ms=(time.perf_counter() - started) * 1000,
        status_code=status_code,
        failure_kind=kind,
        detail=detail,
    )


def parse_reply(body: bytes) -> tuple[str, str] | str:
    """The reply text, or a (failure kind, detail) pair explaining why the body is not a valid answer."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        return Failure.BAD_ENCODING, f"The response body is not valid UTF-8 ({error.reason} at byte {error.start})."
    try:
        data = json.loads(text)
    except ValueError as error:
        return Failure.BAD_JSON, f"The response body is not valid JSON ({error}): {text[:80]!r}"
    if not isinstance(data, dict) or not isinstance(data.get("reply"), str):
        return Failure.BAD_SHAPE, 'The response must be a JSON object with a string "reply", e.g. {"reply": "Hi!"}.'
    reply = data["reply"].strip()
    problem = reply_text_problem(reply, max_chars=settings.BOT_MAX_REPLY_CHARS)
    return problem if problem is not None else reply


def reply_text_problem(reply: str, *, max_chars: int) -> tuple[str, str] | None:
    """Why a reply's (stripped) text cannot become a chat message, as (failure kind, detail), or None if it can.

    Every check of the text itself lives here, so a reply that passes is saved and shown; one that would fail only
    when saved (a NUL, a lone surrogate) is the bot's failure, recorded like the others, never a stalled chat.
    """
    if not reply:
        return Failure.EMPTY, 'The "reply" is empty.'
    if len(reply) > max_chars:
        return Failure.TOO_LONG, f'The "reply" has {len(reply)} characters; the limit is {max_chars}.'
    if (reason := unstorable_text_reason(reply)) is not None:
        return Failure.BAD_TEXT, f'The "reply" holds text that cannot be stored: {reason}'
    return None


async def _read_capped(response: httpx.Response, limit: int) -> bytes | None:
    """The body, or None as soon as it grows past ``limit`` bytes (the rest is never read)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks = bytearray()
    async for chunk in response.aiter_raw():
        chunks += chunk
        if len(chunks) > limit:
            return None
    return bytes(chunks)


async def _exchange(
    client: httpx.AsyncClient, url: httpx.URL, body: bytes, headers: dict, started: float
) -> BotResult | tuple[int, bytes]:
    """Send the request; a failure judged from the status or size, or the status and the body to validate."""
    async with client.stream("POST", url, content=body, headers=headers) as response:
        status = response.status_code
        if response.is_redirect or 300 <= status < 400:
            location = response.headers.get("location", "")
            detail = f"HTTP {status} redirect to {location!r}; redirects are not followed."
            return _failure(Failure.REDIRECT, detail, started, status)
        if status >= 400 or status < 200:
            return _failure(Failure.HTTP_STATUS, f"The bot answered HTTP {status}.", started, status)
        raw = await _read_capped(response, settings.BOT_MAX_RESPONSE_BYTES)
    if raw is None:
        limit = settings.BOT_MAX_RESPONSE_BYTES
        return _failure(Failure.TOO_LARGE, f"The response body is larger than {limit} bytes.", started, status)
    return status, raw


async def call_bot(
    target: BotTarget,
    payload: dict,
    *,
    resolver: netguard.Resolver = netguard.system_resolver,
    allowed_networks: Iterable[str] | None = None,
) -> BotResult:
    """POST a signed payload to the bot and validate its answer; a bot's failure is returned, never raised."""
    started = time.perf_counter()
    networks = netguard.parse_networks(settings.BOT_ALLOWED_NETWORKS if allowed_networks is None else allowed_networks)
    state = _loop_state()
    semaphore = state.semaphores.get(target.bot_id)
    if semaphore is None:
        semaphore = state.semaphores[target.bot_id] = asyncio.Semaphore(settings.BOT_MAX_CONCURRENCY)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        async with asyncio.timeout(settings.BOT_TOTAL_TIMEOUT), semaphore:
            checked = await netguard.check_endpoint(target.endpoint_url, allowed_networks=networks, resolver=resolver)
            url = httpx.URL(target.endpoint_url)
            # Keyed as httpcore will ask for it (IDNA-encoded host, explicit port); whatever the parsers make of
            # the URL, the only address the connection can reach is the checked one.
            origin = (url.raw_host.decode("ascii"), url.port or checked.endpoint.port)
            also = (target.previous_signing_secret,) if target.previous_signing_secret else ()
            headers = signing.signed_headers(secret=target.signing_secret, body=body, also_secrets=also)
            pin = _pinned_addresses.set({origin: checked.address})
            try:
                outcome = await _exchange(state.client_for(target.bot_id), url, body, headers, started)
            finally:
                _pinned_addresses.reset(pin)
    except netguard.BlockedEndpoint as error:
        return _failure(Failure.BLOCKED, str(error), started)
    except (TimeoutError, httpx.TimeoutException):
        limits = f"connect {settings.BOT_CONNECT_TIMEOUT:g} s, read {settings.BOT_READ_TIMEOUT:g} s"
        detail = f"No answer within the time limit ({limits}, total {settings.BOT_TOTAL_TIMEOUT:g} s)."
        return _failure(Failure.TIMEOUT, detail, started)
    except httpx.ConnectError as error:
        return _failure(Failure.REFUSED, f"Could not connect to the bot: {str(error) or 'connection failed'}.", started)
    except httpx.HTTPError as error:
        return _failure(Failure.ERROR, f"HTTP error talking to the bot: {type(error).__name__}: {error}.", started)
    except (ValueError, httpx.InvalidURL) as error:
        return _failure(Failure.ERROR, f"The call could not be made: {error}.", started)
    if isinstance(outcome, BotResult):
        return outcome
    status, raw = outcome
    parsed = parse_reply(raw)
    if isinstance(parsed, tuple):
        return _failure(parsed[0], parsed[1], started, status)
    return BotResult(
        ok=True,
        reply=parsed,
        latency_ms=(time.perf_counter() - started) * 1000,
        status_code=status,
        failure_kind="",
        detail="",
    )


def call_bot_sync(target: BotTarget, payload: dict, **options) -> BotResult:
    """For sync code (Celery, admin, commands): one call in a private loop whose client is closed afterwards."""

    async def call_and_close() -> BotResult:
        try:
            return await call_bot(target, payload, **options)
        finally:
            await close_client()

    return asyncio.run(call_and_close())
