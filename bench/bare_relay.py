"""The floor for bench/ws_load.py: a bare `websockets` relay with no Django, no channel layer, no database.

It speaks the smallest subset of docs/chat-protocol.md that the load client uses, over the same URL
shape (`/ws/chat/<room>/`): `hello` on connect, and for each `message` frame an `ack` and an echo to
the sender plus the `message` to the other socket in the room. Whatever HuLiC adds on top of this
(auth, ORM writes, Redis pub/sub, Channels' dispatch) is what the benchmark's p99 ratio measures.

    .venv/bin/python bench/bare_relay.py --port 0      # prints "listening on <port>" once ready
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import signal
from datetime import UTC, datetime

import uvloop
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

ROOM_PREFIX = "/ws/chat/"


class Room:
    """Two sockets and a sequence counter; the sockets are keyed by side ("a" joins first)."""

    def __init__(self) -> None:
        self.sockets: dict[str, ServerConnection] = {}
        self.seq = itertools.count(1)


rooms: dict[str, Room] = {}


def room_name(path: str) -> str | None:
    if not path.startswith(ROOM_PREFIX):
        return None
    name = path[len(ROOM_PREFIX) :].split("?", 1)[0].strip("/")
    return name or None


async def send_quietly(socket: ServerConnection | None, frame: dict) -> None:
    """A partner that has gone away loses the frame, as it would in the real relay."""
    if socket is None:
        return
    with contextlib.suppress(ConnectionClosed):
        await socket.send(json.dumps(frame))


async def relay(socket: ServerConnection) -> None:
    name = room_name(socket.request.path)
    if name is None:
        await socket.close(code=4404)
        return
    room = rooms.setdefault(name, Room())
    side = "a" if "a" not in room.sockets else "b"
    if side in room.sockets:
        await socket.close(code=4403)
        return
    room.sockets[side] = socket
    partner_side = "b" if side == "a" else "a"
    await socket.send(json.dumps({"type": "hello", "you": side, "status": "active", "last_seq": 0}))
    try:
        async for raw in socket:
            frame = json.loads(raw)
            if frame.get("type") == "ping":
                await socket.send('{"type": "pong"}')
                continue
            if frame.get("type") != "message":
                continue
            seq = next(room.seq)
            sent_at = datetime.now(UTC).isoformat()
            client_msg_id = frame.get("client_msg_id", "")
            await socket.send(json.dumps({"type": "ack", "client_msg_id": client_msg_id, "seq": seq}))
            await socket.send(
                json.dumps(
                    {
                        "type": "message",
                        "seq": seq,
                        "from": "me",
                        "text": frame.get("text", ""),
                        "sent_at": sent_at,
                        "client_msg_id": client_msg_id,
                    }
                )
            )
            await send_quietly(
                room.sockets.get(partner_side),
                {"type": "message", "seq": seq, "from": "partner", "text": frame.get("text", ""), "sent_at": sent_at},
            )
    except ConnectionClosed:
        pass
    finally:
        room.sockets.pop(side, None)
        if not room.sockets:
            rooms.pop(name, None)


async def main(host: str, port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(relay, host, port, max_size=64 * 1024, ping_interval=None) as server:
        bound_port = server.sockets[0].getsockname()[1]
        print(f"listening on {bound_port}", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    uvloop.run(main(args.host, args.port))
