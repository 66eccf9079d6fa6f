"""Shared, standard-library-only code for HuLiC sample bots: signature checks and a small HTTP server.

Copy this file next to your bot. It verifies the Standard Webhooks signature HuLiC puts on every request
(docs/bot-protocol.md), refuses requests older or newer than five minutes, and refuses a webhook-id it has
already seen within that window, so a captured request cannot be replayed.

    from webhook_verify import serve
    serve(lambda payload: {"reply": "Hi!"}, port=8101, secret="whsec_...")
"""

import base64
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 5 * 60
MAX_REQUEST_BYTES = 1024 * 1024

logger = logging.getLogger("hulic.bot")


class VerificationError(Exception):
    """The request is not a fresh, authentic HuLiC webhook."""


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def expected_signature(key: bytes, msg_id: str, timestamp: str, body: bytes) -> bytes:
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return b"v1," + base64.b64encode(digest)


class ReplayGuard:
    """Remembers the webhook-ids seen inside the tolerance window; older ones are refused by their timestamp."""

    def __init__(self, window_seconds: int = TOLERANCE_SECONDS) -> None:
        self.window_seconds = window_seconds
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, msg_id: str, now: float) -> bool:
        with self._lock:
            # Forget ids that fell out of the window: their timestamps would be refused anyway.
            for old_id in [key for key, seen_at in self._seen.items() if now - seen_at > 2 * self.window_seconds]:
                del self._seen[old_id]
            if msg_id in self._seen:
                return False
            self._seen[msg_id] = now
            return True


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, replay_guard: ReplayGuard | None = None, now=None
) -> None:
    """Raise VerificationError unless the request is signed with ``secret``, fresh and not seen before."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        raise VerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    now = time.time() if now is None else now
    try:
        age = abs(now - int(timestamp))
    except ValueError as error:
        raise VerificationError("bad webhook-timestamp") from error
    if age > TOLERANCE_SECONDS:
        raise VerificationError("timestamp outside the five-minute window")
    expected = expected_signature(secret_key(secret), msg_id, timestamp, body)
    if not any(hmac.compare_digest(candidate.encode(), expected) for candidate in signatures.split()):
        raise VerificationError("no matching signature")
    if replay_guard is not None and not replay_guard.first_time(msg_id, now):
        raise VerificationError("webhook-id already seen (replay)")


Responder = Callable[[dict], str]


def make_handler(responder: Responder, secret: str) -> type[BaseHTTPRequestHandler]:
    replay_guard = ReplayGuard()

    class BotHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, so the platform's pooled connections are reused
        disable_nagle_algorithm = True  # headers and body go out in separate writes

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_REQUEST_BYTES:
                self._send(413, {"error": "request too large"})
                return
            body = self.rfile.read(length)
            try:
                verify(secret, self.headers, body, replay_guard=replay_guard)
            except VerificationError as error:
                self._send(401, {"error": str(error)})
                return
            try:
                payload = json.loads(body)
            except ValueError:
                self._send(400, {"error": "body is not JSON"})
                return
            self._send(200, {"reply": responder(payload)})

        def _send(self, status: int, data: dict) -> None:
            encoded = json.dumps(data, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json; charset=utf-8")
            self.send_header("content-length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        def log_message(self, format: str, *args) -> None:
            logger.debug(format, *args)

    return BotHandler


def make_server(responder: Responder, *, host: str, port: int, secret: str) -> ThreadingHTTPServer:
    if not secret:
        raise SystemExit("Give the bot's signing secret with --secret or the BOT_SECRET environment variable.")
    server = ThreadingHTTPServer((host, port), make_handler(responder, secret))
    server.daemon_threads = True
    return server


def add_server_arguments(parser) -> None:
    parser.add_argument("--host", default=os.environ.get("BOT_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("BOT_PORT", "8101")))
    parser.add_argument("--secret", default=os.environ.get("BOT_SECRET", ""), help="whsec_... (or BOT_SECRET)")


def serve(responder: Responder, *, host: str, port: int, secret: str) -> None:
    server = make_server(responder, host=host, port=port, secret=secret)
    print(f"listening on http://{host}:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
