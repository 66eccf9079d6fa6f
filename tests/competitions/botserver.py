"""Real HTTP servers on loopback for bot-client tests: a misbehaving bot with one path per failure, and the samples.

Each server binds 127.0.0.1 on an ephemeral port, serves from a daemon thread and is shut down by its fixture.
"""

import importlib
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples" / "bots"
TEST_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
LOOPBACK = ["127.0.0.0/8", "::1/128"]


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    client_address: str


@dataclass
class MisbehavingBot:
    """What the test bot received; ``url(path)`` gives the address of one behaviour."""

    port: int
    requests: list[RecordedRequest] = field(default_factory=list)
    slow_seconds: float = 2.0
    active: int = 0
    max_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def _handler_for(bot: MisbehavingBot) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            bot.requests.append(
                RecordedRequest(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body, self.client_address[0]
                )
            )
            behaviour = self.path.strip("/")
            if behaviour == "ok":
                self.send(200, json.dumps({"reply": "  Hello from the test bot.  "}).encode())
            elif behaviour == "echo-host":
                self.send(200, json.dumps({"reply": self.headers.get("host", "")}).encode())
            elif behaviour == "slow":
                with bot.lock:
                    bot.active += 1
                    bot.max_active = max(bot.max_active, bot.active)
                time.sleep(bot.slow_seconds)
                with bot.lock:
                    bot.active -= 1
                self.send(200, b'{"reply": "too late"}')
            elif behaviour == "error":
                self.send(500, b"Internal Server Error")
            elif behaviour == "not-found":
                self.send(404, b"nope")
            elif behaviour == "garbage":
                self.send(200, b"<html>this is not json</html>")
            elif behaviour == "no-reply-key":
                self.send(200, b'{"answer": "hi"}')
            elif behaviour == "huge":
                self.send_huge()
            elif behaviour == "empty":
                self.send(200, b'{"reply": "   "}')
            elif behaviour == "long":
                self.send(200, json.dumps({"reply": "x" * 5000}).encode())
            elif behaviour == "nul":
                self.send(200, b'{"reply": "hi\\u0000there"}')
            elif behaviour == "lone-surrogate":
                self.send(200, b'{"reply": "hi \\ud800"}')
            elif behaviour == "bad-utf8":
                self.send(200, b'{"reply": "\xff\xfe"}')
            elif behaviour.startswith("redirect"):
                self.send_response(302)
                self.send_header("location", "http://169.254.169.254/latest/meta-data/")
                self.send_header("content-length", "0")
                self.end_headers()
            else:
                self.send(404, b"unknown behaviour")

        def send(self, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up first (a timeout test)

        def send_huge(self) -> None:
            # Chunked and without a content-length, so only the client's streaming cap can stop it.
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            chunk = b'{"reply": "' + b"a" * 16_000
            try:
                for _ in range(200):
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler


@contextmanager
def running(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class IPv6HTTPServer(ThreadingHTTPServer):
    address_family = socket.AF_INET6


@contextmanager
def misbehaving_bot_server(host: str = "127.0.0.1") -> Iterator[MisbehavingBot]:
    server_class = IPv6HTTPServer if ":" in host else ThreadingHTTPServer
    server = server_class((host, 0), BaseHTTPRequestHandler)
    bot = MisbehavingBot(port=server.server_address[1])
    server.RequestHandlerClass = _handler_for(bot)
    with running(server):
        yield bot


def load_example(module_name: str):
    """Import a sample bot from examples/bots the way it runs there (its directory on sys.path)."""
    if str(EXAMPLES_DIR) not in sys.path:
        sys.path.insert(0, str(EXAMPLES_DIR))
    return importlib.import_module(module_name)


@contextmanager
def sample_bot_server(module_name: str, responder_name: str, secret: str = TEST_SECRET) -> Iterator[str]:
    """Run a sample bot on loopback; yields its URL."""
    verify = load_example("webhook_verify")
    responder = getattr(load_example(module_name), responder_name)
    server = verify.make_server(responder, host="127.0.0.1", port=0, secret=secret)
    with running(server):
        yield f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture(name="test_bot")
def test_bot_fixture() -> Iterator[MisbehavingBot]:
    with misbehaving_bot_server() as bot:
        yield bot


@pytest.fixture(name="allow_loopback")
def allow_loopback_fixture(settings):
    settings.BOT_ALLOWED_NETWORKS = LOOPBACK
    return settings


@pytest.fixture(name="fresh_client")
async def fresh_client_fixture():
    """Close this test loop's pooled client at the end so no connection outlives the test."""
    from competitions.bot_client import close_client

    yield
    await close_client()
