"""`make run` (the rundemo command) as a newcomer meets it: a real process on an embedded SQLite database."""

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from competitions.management.commands.rundemo import choose_bot_ports, free_port

REPO = Path(__file__).resolve().parents[2]


def test_a_sample_bot_never_gets_the_servers_port_even_if_it_had_it_last_time():
    server_port = free_port()
    ports = choose_bot_ports(previous=[server_port, None], configured=(), taken={server_port})
    assert server_port not in ports
    assert len(set(ports)) == 2


def test_configured_demo_bot_ports_are_used_as_given():
    assert choose_bot_ports(previous=[None, None], configured=(9001, 9002), taken={8000}) == [9001, 9002]


def embedded_environment(tmp_path: Path) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "HULIC_TESTING", "DJANGO_SETTINGS_MODULE", "DEMO_BOT_PORTS"}
    }
    environment["SQLITE_PATH"] = str(tmp_path / "demo.sqlite3")
    environment["PYTHONUNBUFFERED"] = "1"
    return environment


def manage(environment: dict[str, str], *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )


def child_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads child processes from /proc")
def test_make_run_on_the_port_the_bots_had_serves_before_its_banner_with_secrets_out_of_argv(tmp_path):
    environment = embedded_environment(tmp_path)
    migrate = manage(environment, "migrate", "--noinput")
    assert "W047" not in migrate.stdout + migrate.stderr
    manage(environment, "seed_demo")
    port = free_port()
    # `make run PORT=8101` with the demo bots last registered on 8101.
    manage(
        environment,
        "shell",
        "-c",
        f"from competitions.models import Bot; Bot.objects.update(endpoint_url='http://127.0.0.1:{port}/')",
    )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "rundemo", "--port", str(port)],
        cwd=REPO,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    output: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not any("HuLiC is running at" in line for line in output):
            assert time.monotonic() < deadline, "".join(output)
            assert process.poll() is None, "".join(output)
            try:
                output.append(lines.get(timeout=1))
            except queue.Empty:
                continue
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200
        bot_lines = [line for line in output if line.startswith("Sample bot")]
        assert len(bot_lines) == 2
        assert all(line.strip().endswith("live") for line in bot_lines), bot_lines
        assert all(f"port {port}:" not in line for line in bot_lines)
        for child in child_pids(process.pid):
            command_line = Path(f"/proc/{child}/cmdline").read_bytes().decode()
            assert "whsec_" not in command_line
    finally:
        process.terminate()
        process.wait(timeout=15)
