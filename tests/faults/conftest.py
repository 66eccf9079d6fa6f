"""Fault injection on the production shape: real processes (redis-server, celery worker, uvicorn) on free loopback
ports, started and stopped by the tests themselves, against the test database.

Every scenario is bounded (each process gets a deadline and is killed at the end) and marked ``faults``. They need
Postgres (the processes share the test database, so the tests commit: ``transactional_db``) and a
``redis-server`` binary for the Redis restarts (CI installs it, see .ci/run).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def wait_until(condition: Callable[[], object], *, timeout: float, every: float = 0.1) -> float:
    """Seconds until ``condition()`` is true; fails the test after ``timeout``."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            pytest.fail(f"not true after {timeout:.0f} s: {condition}")
        time.sleep(every)


@dataclass
class Process:
    """A child process in its own process group, with its output in a log file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(
            self.args, cwd=REPO, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def send(self, sig: int) -> None:
        if self.alive:
            os.killpg(self.popen.pid, sig)

    def stop(self, sig: int = signal.SIGKILL, timeout: float = 15.0) -> None:
        if self.popen is None:
            return
        self.send(sig)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.send(signal.SIGKILL)
            self.popen.wait(timeout=5)
        self.popen = None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Processes:
    """What a scenario starts; everything is killed when the test ends."""

    tmp: Path
    env: dict[str, str]
    redis_port: int
    started: list[Process] = field(default_factory=list)

    def start(self, name: str, args: list[str], **env: str) -> Process:
        process = Process(name, args, {**self.env, **env}, self.tmp / f"{name}.log").start()
        self.started.append(process)
        return process

    def redis(self) -> Process:
        """The scenario's own Redis (no persistence: a restart loses everything, the worst case)."""
        port = self.redis_port
        args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = self.start("redis", args)
        wait_for_port(port)
        return process

    def worker(self, name: str = "worker", *, beat: bool = False, **env: str) -> Process:
        args = [sys.executable, "-m", "celery", "-A", "hulic", "worker", "-l", "INFO", "-c", "1", "-n", f"{name}@%h"]
        args += ["--without-mingle", "--without-gossip"]
        if beat:
            args += ["-B", "-s", str(self.tmp / f"{name}-beat-schedule")]
        return self.start(name, args, **env)

    def web(self, port: int, name: str = "web", **env: str) -> Process:
        args = [sys.executable, "-m", "uvicorn", "hulic.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
        process = self.start(name, [*args, "--log-level", "warning"], **env)
        wait_for_port(port)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()


@pytest.fixture
def processes(transactional_db, tmp_path) -> Iterator[Processes]:
    if connection.vendor != "postgresql":
        pytest.skip("fault scenarios run the production shape: Postgres shared with child processes")
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    db = connection.settings_dict
    redis_port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hulic.settings",
        "HULIC_TESTING": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "BOT_ALLOWED_NETWORKS": "127.0.0.0/8",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    running = Processes(tmp=tmp_path, env=env, redis_port=redis_port)
    try:
        yield running
    finally:
        running.stop_all()
