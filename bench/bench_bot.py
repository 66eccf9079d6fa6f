"""The sample bots' signed webhook server (examples/bots/webhook_verify.py) with a recording responder, for
bench/ws_load.py --mode three-party.

Every request's signature, timestamp and webhook-id are checked as a real bot checks them. The responder answers
"well <key>" to the last user message (whose last word is the load client's message key) and records, on the
machine's monotonic clock (CLOCK_MONOTONIC, the one `time.perf_counter_ns` reads in every process here), when
each user message key was first seen and when each answer left. `GET /records` returns them as JSON.

    python bench/bench_bot.py --port 0 --secret whsec_...     # prints "listening on http://127.0.0.1:<port>/"
"""

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples" / "bots"))

from webhook_verify import make_handler, make_server  # the sample bots' module, beside them

REPLY_WORD = "well"


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, int] = {}  # user message key -> first seen (ns)
        self.replies: dict[str, list[int]] = {}  # answered key -> when each answer left (ns); >1 is a duplicate turn
        self.turns = 0

    def respond(self, payload: dict) -> str:
        now = time.perf_counter_ns()
        keys = [m["text"].rsplit(" ", 1)[-1] for m in payload.get("messages", []) if m.get("role") == "user"]
        with self.lock:
            self.turns += 1
            for key in keys:
                self.seen.setdefault(key, now)
            answered = keys[-1] if keys else "opening"
            self.replies.setdefault(answered, []).append(time.perf_counter_ns())
        return f"{REPLY_WORD} {answered}"

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "turns": self.turns,
                "seen": dict(self.seen),
                "replies": {k: list(v) for k, v in self.replies.items()},
            }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    recorder = Recorder()
    signed = make_handler(recorder.respond, args.secret)

    class Handler(signed):
        def do_GET(self) -> None:
            self._send(200, recorder.snapshot())

    server = make_server(recorder.respond, host="127.0.0.1", port=args.port, secret=args.secret)
    server.RequestHandlerClass = Handler
    print(f"listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    server.serve_forever()  # until the benchmark terminates it


if __name__ == "__main__":
    main()
