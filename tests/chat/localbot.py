"""A tiny stdlib HTTP bot on 127.0.0.1:<ephemeral> for chat tests: it answers, hangs or fails, by path."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class LocalBot:
    port: int
    payloads: list[dict] = field(default_factory=list)
    hang_seconds: float = 2.0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"


@contextmanager
def local_bot() -> Iterator[LocalBot]:
    bot = LocalBot(port=0)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
            bot.payloads.append(payload)
            behaviour = self.path.strip("/")
            if behaviour == "hang":
                time.sleep(bot.hang_seconds)
            if behaviour == "fail":
                self._send(500, b"boom")
                return
            if behaviour == "nul":
                self._send(200, b'{"reply": "hello\\u0000there"}')
                return
            if behaviour == "long":  # longer than the chat's max_chars, within BOT_MAX_REPLY_CHARS
                self._send(200, json.dumps({"reply": "word " * 88}).encode())
                return
            if behaviour == "rude":
                self._send(200, json.dumps({"reply": "you fucking idiot"}).encode())
                return
            last = payload["messages"][-1]["text"] if payload["messages"] else ""
            self._send(200, json.dumps({"reply": f"echo: {last}" if last else "hello there"}).encode())

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    bot.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield bot
    finally:
        server.shutdown()
        server.server_close()
