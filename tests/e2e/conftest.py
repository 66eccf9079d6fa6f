"""Browser tests: the real ASGI app under uvicorn in a thread, driven by Playwright with Debian's Chromium.

The server runs in this process so that the test's committed data (``transactional_db``) and its
``settings`` overrides are what the server sees. Playwright's sync API keeps an event loop in the main
thread, where Django refuses ORM calls; tests touch the database through ``orm``, which runs a call
in a worker thread instead.
"""

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from chat.db import chat_database_close
from competitions.models import new_signing_secret

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config, items):
    """Without Chromium the browser tests skip, unless HULIC_REQUIRE_BROWSER=1 (CI), where they fail."""
    if Path(CHROMIUM).exists() or os.environ.get("HULIC_REQUIRE_BROWSER") == "1":
        return
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} is not installed (apt-get install chromium); set HULIC_REQUIRE_BROWSER=1 to fail instead"
    )
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


def free_listening_socket() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    return listener


def free_port() -> int:
    with free_listening_socket() as probe:
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


@dataclass(frozen=True)
class LiveServer:
    url: str


@pytest.fixture
def orm() -> Iterator[Callable[..., Any]]:
    """Runs a function in a worker thread, out of reach of Playwright's event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:

        def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            return pool.submit(function, *args, **kwargs).result(timeout=30)

        yield call
        pool.submit(connections.close_all).result(timeout=10)


@pytest.fixture
def asgi_server(transactional_db, settings) -> Iterator[LiveServer]:
    """hulic.asgi:application (HTTP + websockets) under uvicorn, with static files served as runserver does."""
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from chat.bot_turns import bot_turns_wait_all
    from competitions.bot_client import close_client
    from hulic.asgi import application

    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    settings.BOT_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    settings.CHAT_BOT_DELAY_MAX_MS = 200.0
    settings.CHAT_PRESENCE_TIME_SCALE = 0.0  # no human-like holds or typing delays by default

    listener = free_listening_socket()
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        ASGIStaticFilesHandler(application), lifespan="off", log_level="warning", access_log=False, ws="auto"
    )
    server = uvicorn.Server(config)

    async def serve() -> None:
        """Serve until told to stop, then let bot turns finish and close this loop's pooled bot client."""
        await server.serve(sockets=[listener])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(bot_turns_wait_all(), timeout=5)
        await close_client()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    yield LiveServer(url=f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()
    close_server_connections()


def close_server_connections() -> None:
    """The server's worker threads keep their database connections open (CONN_MAX_AGE); on Postgres they would
    block dropping the test database, so end them once the server has stopped. The chat's database threads
    outlive the server (they belong to the process): they are stopped first, closing their own connections."""
    chat_database_close()
    if connection.vendor != "postgresql" or connection.settings_dict.get("OPTIONS", {}).get("pool"):
        # With the pool no thread keeps a connection past its request, and idle pooled connections block neither
        # the flush nor the drop of the test database; killing them left a dead one in a thread that outlives the
        # test (Channels' session lookup), and every later handshake in the run failed on it.
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def browser(asgi_server):
    """Per test, after the server: Playwright's loop must be gone before the database teardown runs."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"HULIC_REQUIRE_BROWSER=1 but {CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# Every Content-Security-Policy violation shows on the console as an error, whatever Chromium itself logs.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`);
});
"""


def is_csp_violation(message) -> bool:
    return message.type == "error" and (
        message.text.startswith("CSP violation") or "Content Security Policy" in message.text
    )


@pytest.fixture
def csp_violations() -> list[str]:
    """The CSP console errors of every page the test opened; any left at the end fails the test."""
    return []


@pytest.fixture
def new_page(browser, asgi_server, csp_violations):
    """Opens a page in a fresh browser context (its own cookies: one context per evaluator)."""
    contexts = []

    def open_page():
        context = browser.new_context(base_url=asgi_server.url, viewport={"width": 1280, "height": 800})
        context.set_default_timeout(10_000)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: csp_violations.append(message.text) if is_csp_violation(message) else None)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert csp_violations == [], f"the pages broke their Content-Security-Policy: {csp_violations}"


@pytest.fixture
def eliza_bot_process() -> Iterator[tuple[int, str]]:
    """The sample ELIZA bot (examples/bots/eliza.py) on a free loopback port; yields (port, signing secret)."""
    script = REPO / "examples" / "bots" / "eliza.py"
    if not script.exists():
        pytest.fail(f"{script} is missing")
    port = free_port()
    secret = new_signing_secret()
    process = subprocess.Popen(
        [sys.executable, str(script), "--port", str(port), "--secret", secret], stdout=subprocess.DEVNULL
    )
    try:
        wait_for_port(port)
        yield port, secret
    finally:
        process.terminate()
        process.wait(timeout=5)
