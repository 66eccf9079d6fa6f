"""The platform's overhead on one bot call, against a plain pooled httpx call to the same local bot.

Platform path: competitions.bot_client.call_bot (signing, address guard with resolution, pinned connection, capped
streaming read, reply validation) and then competitions.health.bot_call_record (the BotCall row and the bot's
health counters under a row lock), as a chat turn does it. Baseline: httpx.AsyncClient.post of the same body to the
same bot plus json.loads. Calls alternate between the two paths so that drift affects both alike.

    .venv/bin/python bench/bot_roundtrip.py              # SQLite in a temporary file (tmpfs), migrated first
    DATABASE_URL=postgres://... .venv/bin/python bench/bot_roundtrip.py --calls 1000

The bot is a minimal standard-library server on 127.0.0.1 (ephemeral port) that answers {"reply": "ok"} over
keep-alive connections; it does not verify signatures, so both paths cost the bot the same.
"""

import argparse
import asyncio
import json
import logging
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_P99_OVERHEAD_MS = 5.0


class FastBot(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = b'{"reply": "ok"}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        pass


def set_up_django() -> tuple[str, str | None]:
    """Set Django up on DATABASE_URL, or on SQLite in a new temporary directory (returned for removal)."""
    directory = None
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hulic.settings")
    if not os.environ.get("DATABASE_URL"):
        # tmpfs when there is one: the figure is then the platform's cost, not the disk's fsync on every commit.
        shm = Path("/dev/shm")  # noqa: S108 -- mkdtemp below makes a private, unpredictable directory in it
        memory_dir = str(shm) if shm.is_dir() else None
        directory = tempfile.mkdtemp(prefix="hulic-bench-", dir=memory_dir)
        os.environ["SQLITE_PATH"] = str(Path(directory) / "bench.sqlite3")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1], directory


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(url: str, bot_id: int, secret: str, calls: int, warmup: int) -> tuple[list[float], ...]:
    import httpx
    from asgiref.sync import sync_to_async

    from competitions.bot_client import BotTarget, build_turn_payload, call_bot, close_client
    from competitions.health import bot_call_record
    from competitions.models import BotCall

    record = sync_to_async(bot_call_record)
    target = BotTarget(bot_id=bot_id, endpoint_url=url, signing_secret=secret)
    messages = [
        {
            "role": "user" if i % 2 == 0 else "bot",
            "text": f"message number {i} " * 4,
            "timestamp": "2026-05-01T10:00:00Z",
        }
        for i in range(9)
    ]
    payload = build_turn_payload(conversation_id="bench", language="en", competition="bench", messages=messages)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    loopback = ["127.0.0.0/8"]

    baseline: list[float] = []
    calls_ms: list[float] = []
    records_ms: list[float] = []
    async with httpx.AsyncClient(headers={"content-type": "application/json"}) as plain:
        for index in range(warmup + calls):
            started = time.perf_counter()
            response = await plain.post(url, content=body)
            json.loads(response.content)["reply"]
            baseline_ms = (time.perf_counter() - started) * 1000

            started = time.perf_counter()
            result = await call_bot(target, payload, allowed_networks=loopback)
            called = time.perf_counter()
            await record(bot_id=bot_id, purpose=BotCall.Purpose.TURN, result=result)
            recorded = time.perf_counter()
            if not result.ok:
                raise SystemExit(f"The platform call failed: {result.failure_kind} {result.detail}")
            if index >= warmup:
                baseline.append(baseline_ms)
                calls_ms.append((called - started) * 1000)
                records_ms.append((recorded - called) * 1000)
    await close_client()
    return baseline, calls_ms, records_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    args = parser.parse_args()

    engine, sqlite_directory = set_up_django()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from competitions.models import Bot, BotCall, Competition, Team

    server = ThreadingHTTPServer(("127.0.0.1", 0), FastBot)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    suffix = secrets.token_hex(4)
    competition = Competition.objects.create(slug=f"bench-{suffix}", title="Bench", phase=Competition.Phase.EVALUATION)
    team = Team.objects.create(name=f"Bench {suffix}", slug=f"bench-{suffix}")
    bot = Bot.objects.create(team=team, competition=competition, name="fast", endpoint_url=url)
    try:
        baseline, calls_ms, records_ms = asyncio.run(measure(url, bot.id, bot.signing_secret, args.calls, args.warmup))
        recorded = BotCall.objects.filter(bot=bot).count()
    finally:
        server.shutdown()
        server.server_close()
        competition.delete()
        team.delete()
        if sqlite_directory:
            shutil.rmtree(sqlite_directory, ignore_errors=True)

    totals = [call + record for call, record in zip(calls_ms, records_ms, strict=True)]

    def row(label: str, values: list[float]) -> str:
        return f"  {label:36} p50 {percentile(values, 0.5):7.3f} ms   p99 {percentile(values, 0.99):7.3f} ms"

    b50, b99 = percentile(baseline, 0.5), percentile(baseline, 0.99)
    t50, t99 = percentile(totals, 0.5), percentile(totals, 0.99)
    print(f"bot round trip, {args.calls} calls each (after {args.warmup} warm-up), database: {engine}")
    print(row("plain pooled httpx call", baseline))
    print(row("platform call_bot", calls_ms))
    print(row("  recording the BotCall", records_ms))
    print(row("platform call_bot + BotCall", totals))
    print(row("overhead call_bot (paired)", [c - b for c, b in zip(calls_ms, baseline, strict=True)]))
    print(row("overhead incl. BotCall (paired)", [t - b for t, b in zip(totals, baseline, strict=True)]))
    print(f"  {'overhead incl. BotCall (p-tile gap)':36} p50 {t50 - b50:7.3f} ms   p99 {t99 - b99:7.3f} ms")
    print(f"  {'ratio (platform + BotCall) / plain':36} p50 {t50 / b50:7.2f}x      p99 {t99 / b99:7.2f}x")
    print(f"  BotCall rows recorded: {recorded}")
    verdict = "met" if t99 - b99 < GOAL_P99_OVERHEAD_MS else "NOT met"
    print(f"  goal p99 overhead < {GOAL_P99_OVERHEAD_MS:g} ms: {verdict}")


if __name__ == "__main__":
    main()
