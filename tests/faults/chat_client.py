"""A chat client that behaves like static/chat/chat.js, on the websockets library's sync API (no event loop, so the
test keeps using the ORM directly)."""

import json
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.test import Client
from websockets.sync.client import ClientConnection, connect


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@dataclass
class ChatSocket:
    port: int
    public_id: str
    cookie: str
    last_seq: int = 0
    frames: list[dict] = field(default_factory=list)
    socket: ClientConnection | None = None

    def open(self) -> dict:
        url = f"ws://127.0.0.1:{self.port}/ws/chat/{self.public_id}/?last_seq={self.last_seq}"
        self.socket = connect(
            url,
            origin=f"http://127.0.0.1:{self.port}",
            additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={self.cookie}"},
            open_timeout=10,
            legacy=True,
        )
        return self.wait_for(lambda frame: frame["type"] == "hello", timeout=10)

    def send(self, frame: dict) -> None:
        self.socket.send(json.dumps(frame))

    def send_message(self, client_msg_id: str, text: str, *, timeout: float = 15) -> dict:
        """Send until acked, resending the same id after ``busy`` as the page does; returns the ack."""
        deadline = time.monotonic() + timeout
        while True:
            self.send({"type": "message", "client_msg_id": client_msg_id, "text": text})
            answer = self.wait_for(
                lambda frame: frame.get("client_msg_id") == client_msg_id and frame["type"] in ("ack", "error"),
                timeout=max(0.1, deadline - time.monotonic()),
            )
            self.frames.remove(answer)
            if answer["type"] == "ack":
                return answer
            assert answer["code"] == "busy", answer
            time.sleep(answer["retry_after_ms"] / 1000)

    def wait_for(self, matches, *, timeout: float) -> dict:
        """The first frame (seen before or arriving within ``timeout``) for which ``matches`` is true."""
        for frame in self.frames:
            if matches(frame):
                return frame
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching frame within {timeout} s; got {self.frames[-5:]}")
            try:
                raw = self.socket.recv(timeout=remaining)
            except TimeoutError:
                continue
            frame = json.loads(raw)
            self.frames.append(frame)
            if frame["type"] == "message":
                self.last_seq = max(self.last_seq, frame["seq"])
            if matches(frame):
                return frame

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
            self.socket = None
