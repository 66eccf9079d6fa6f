"""HTTP load: sign-ins, pages and API calls at a steady rate on two uvicorn processes, Postgres connections watched.

    .venv/bin/python bench/http_load.py                          # 30 s at 40 requests/s, the settings' defaults
    .venv/bin/python bench/http_load.py --duration 5 --rate 10   # smoke check
    .venv/bin/python bench/http_load.py --env DATABASE_POOL=false  # compare: a connection per request

What it does, all on loopback with bounded durations:
1. Creates and migrates the benchmark database, seeds the demo competition and BENCH_USERS users
   (`manage.py seed_demo`, in subprocesses that exit: they hold no connection), and runs `collectstatic`.
2. Starts two `uvicorn hulic.asgi:application` processes on free ports (the production shape: Postgres, Redis,
   DEBUG off), each on a listening socket it inherits.
3. Every user signs in through the login form; then, open loop at `--rate` requests per second spread over the
   users and both processes: the home page, a competition page, the leaderboard page, two API reads, the chat
   script (WhiteNoise, no database: the floor), and a fresh sign-in every `--signin-every` requests.
4. A thread counts the benchmark database's connections in pg_stat_activity every 0.1 s for the whole run.

Prints p50/p95 per kind of request, the leaderboard page's p95, the ratio of the pages' p95 to the floor's, the
peak connection count against the documented bound (processes × DATABASE_POOL_MAX_SIZE, docs/operations.md)
and "bound held / NOT held".
"""

import argparse
import asyncio
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from statistics import quantiles

import dj_database_url
import httpx
import psycopg2

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/hulic_bench_http"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
BENCH_USERS = 20
USER_PREFIX = "http-bench-"
PASSWORD = "bench-" + secrets.token_urlsafe(12)
SLUG = "turing-demo"  # seed_demo's competition
TARGETS = {
    "home page": "/",
    "competition page": f"/competitions/{SLUG}/",
    "leaderboard page": f"/c/{SLUG}/leaderboard/",
    "API leaderboard": f"/api/v1/competitions/{SLUG}/leaderboard/",
    "API competitions": "/api/v1/competitions/",
    "static (floor)": "/static/chat/chat.js",
}
PAGES = ("home page", "competition page", "leaderboard page", "API leaderboard", "API competitions")
SEED_USERS = f"""
from django.contrib.auth import get_user_model
User = get_user_model()
for n in range({BENCH_USERS}):
    user, _ = User.objects.get_or_create(username="{USER_PREFIX}%d" % n)
    user.set_password("{PASSWORD}")
    user.save()
"""


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return quantiles(values, n=100, method="inclusive")[q - 1]


def create_database(database_url: str) -> None:
    config = dj_database_url.parse(database_url)
    admin = psycopg2.connect(
        dbname="postgres", user=config["USER"], password=config["PASSWORD"], host=config["HOST"], port=config["PORT"]
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
    admin.close()


def server_env(args: argparse.Namespace) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SECRET_KEY": args.secret_key,
        "DEBUG": "false",
        "HULIC_TESTING": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "hulic.settings",
    }
    for item in args.env:
        name, _, value = item.partition("=")
        env[name] = value
    return env


def manage(env: dict[str, str], *command: str) -> None:
    command_line = [sys.executable, "manage.py", *command]
    subprocess.run(command_line, cwd=BASE_DIR, env=env, check=True, stdout=subprocess.DEVNULL)


def prepare(env: dict[str, str]) -> None:
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    manage(env, "shell", "-c", SEED_USERS)
    manage(env, "collectstatic", "--noinput")


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen, int, str]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    listener.set_inheritable(True)
    port = listener.getsockname()[1]
    command = [str(Path(sys.executable).parent / "uvicorn"), "hulic.asgi:application", "--fd", str(listener.fileno())]
    command += ["--no-access-log", "--lifespan", "off", "--log-level", "warning"]
    log = tempfile.NamedTemporaryFile(prefix="http_load_server_", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        command, cwd=BASE_DIR, env=env, pass_fds=(listener.fileno(),), stdout=log, stderr=subprocess.STDOUT
    )
    listener.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}; see {log.name}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return process, port, log.name
        except urllib.error.HTTPError:
            return process, port, log.name
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the server did not answer on port {port} within 60 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class ConnectionWatch(threading.Thread):
    """Counts the benchmark database's backends (its own excluded) every `interval` seconds."""

    def __init__(self, database_url: str, interval: float = 0.1):
        super().__init__(daemon=True)
        self.config = dj_database_url.parse(database_url)
        self.interval = interval
        self.samples: list[int] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        c = self.config
        connection = psycopg2.connect(
            dbname=c["NAME"], user=c["USER"], password=c["PASSWORD"], host=c["HOST"], port=c["PORT"]
        )
        connection.autocommit = True
        with connection.cursor() as cursor:
            while not self.stopping.is_set():
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [c["NAME"]]
                )
                self.samples.append(cursor.fetchone()[0])
                self.stopping.wait(self.interval)
        connection.close()


async def sign_in(client: httpx.AsyncClient, username: str) -> tuple[float, int]:
    started = time.perf_counter()
    page = await client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    answer = await client.post(
        "/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1) if token else ""},
    )
    signed_in = answer.status_code == 302 and "sessionid" in client.cookies
    return (time.perf_counter() - started) * 1000, 200 if signed_in else answer.status_code


async def run_load(ports: list[int], args: argparse.Namespace) -> tuple[dict[str, list[float]], Counter, float]:
    clients = [
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[n % len(ports)]}", timeout=30.0)
        for n in range(BENCH_USERS)
    ]
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: Counter = Counter()
    for n, client in enumerate(clients):
        _elapsed, status = await sign_in(client, f"{USER_PREFIX}{n}")
        statuses["sign-in", status] += 1

    async def one(number: int) -> None:
        client = clients[number % len(clients)]
        if args.signin_every and number % args.signin_every == 0:
            elapsed, status = await sign_in(client, f"{USER_PREFIX}{number % len(clients)}")
            latencies["sign-in"].append(elapsed)
            statuses["sign-in", status] += 1
            return
        kind = list(TARGETS)[number % len(TARGETS)]
        started = time.perf_counter()
        try:
            answer = await client.get(TARGETS[kind])
            status = answer.status_code
        except httpx.HTTPError as error:
            status = type(error).__name__
        latencies[kind].append((time.perf_counter() - started) * 1000)
        statuses[kind, status] += 1

    total = int(args.rate * args.duration)
    started = time.perf_counter()
    max_lag = 0.0
    tasks = []
    for number in range(total):
        due = started + number / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        max_lag = max(max_lag, -delay)
        tasks.append(asyncio.create_task(one(number)))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
    for client in clients:
        await client.aclose()
    return latencies, statuses, max_lag * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=40.0, help="requests per second, both processes together")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of steady load")
    parser.add_argument("--processes", type=int, default=2, help="uvicorn processes")
    parser.add_argument("--signin-every", type=int, default=50, help="a sign-in every N requests (0: none)")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the servers (repeatable)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    args = parser.parse_args()
    args.secret_key = secrets.token_urlsafe(50)

    env = server_env(args)
    create_database(args.database_url)
    prepare(env)
    watch = ConnectionWatch(args.database_url)
    watch.start()
    servers = []
    try:
        for _ in range(args.processes):
            servers.append(start_server(env))
        idle = max(watch.samples[-5:] or [0])
        latencies, statuses, lag_ms = asyncio.run(run_load([port for _, port, _ in servers], args))
    finally:
        for process, _, _ in servers:
            stop(process)
        watch.stopping.set()
        watch.join()

    pooled = env.get("DATABASE_POOL", "true").lower() not in {"0", "false", "no", "off"}
    pool_max = int(env.get("DATABASE_POOL_MAX_SIZE") or 12)
    bound = args.processes * pool_max
    print(f"{args.processes} uvicorn processes, {args.rate:g} requests/s for {args.duration:g} s; ", end="")
    print(f"connections {'pooled, max ' + str(pool_max) + ' per process' if pooled else 'opened per request'}")
    print(f"{'request':<18} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses")
    for kind in ["sign-in", *TARGETS]:
        values = latencies.get(kind, [])
        codes = {status: count for (k, status), count in statuses.items() if k == kind}
        print(
            f"{kind:<18} {len(values):>5} {percentile(values, 50):>8.1f} {percentile(values, 95):>8.1f} "
            f"{percentile(values, 99):>8.1f}  {codes}"
        )
    pages = [value for kind in PAGES for value in latencies.get(kind, [])]
    floor_p95 = percentile(latencies.get("static (floor)", []), 95)
    pages_p95 = percentile(pages, 95)
    leaderboard_p95 = percentile(latencies["leaderboard page"], 95)
    print(f"\npages and API p95 {pages_p95:.1f} ms; leaderboard page p95 {leaderboard_p95:.1f} ms")
    print(f"floor (static file, no database) p95 {floor_p95:.1f} ms; ratio {pages_p95 / floor_p95:.1f}x")
    errors = sum(count for (_kind, status), count in statuses.items() if status != 200)
    print(f"answers other than 200: {errors}; the client fell behind its schedule by at most {lag_ms:.0f} ms")
    peak = max(watch.samples or [0])
    print(
        f"Postgres connections to the benchmark database: idle {idle}, peak {peak} over {len(watch.samples)} samples "
        f"(every 0.1 s); documented bound {bound} ({args.processes} x DATABASE_POOL_MAX_SIZE {pool_max})"
    )
    held = peak <= bound and errors == 0
    print("bound held" if held else "bound NOT held" if peak > bound else "bound held, but some answers failed")
    for _, _, log in servers:
        lines = Path(log).read_text(errors="replace").splitlines()
        if lines:
            print(f"server log {log}: {len(lines)} lines, last: {lines[-1][:200]}")
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
