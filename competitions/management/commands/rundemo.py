"""`make run`: seed the demo, start the sample bots, health-check them, serve HTTP + websockets with uvicorn."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from competitions.health import bot_health_check
from competitions.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS, demo_bot_ports
from competitions.models import Bot

BOT_SCRIPTS = {"ELIZA": "eliza.py", "Jimin": "persona.py"}


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.1)
    raise CommandError(f"The sample bot on {host}:{port} did not start within {timeout:.0f} s.")


class Command(BaseCommand):
    help = "Run the demo platform: demo data, sample bots and the ASGI server (HTTP + websockets)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options):
        call_command("seed_demo")
        bots = self._start_bots()
        try:
            self._announce(host, port)
            uvicorn.run(
                "hulic.asgi:application",
                host=host,
                port=port,
                log_level="info",
                ws_max_size=settings.CHAT_MAX_FRAME_BYTES,
                lifespan="off",
            )
        finally:
            for process in bots:
                process.terminate()
            for process in bots:
                process.wait(timeout=5)

    def _start_bots(self) -> list[subprocess.Popen]:
        examples = Path(settings.BASE_DIR) / "examples" / "bots"
        processes = []
        for name, port in demo_bot_ports().items():
            bot = Bot.objects.get(competition__slug="turing-demo", name=name)
            command = [sys.executable, str(examples / BOT_SCRIPTS[name]), "--port", str(port)]
            command += ["--secret", bot.signing_secret]
            processes.append(subprocess.Popen(command))  # noqa: S603 - our own sample bot scripts
            wait_for_port("127.0.0.1", port)
            call = bot_health_check(bot_id=bot.id)
            state = "live" if call.ok else f"FAILING: {call.detail}"
            self.stdout.write(f"Sample bot {name} on port {port}: {state}")
        return processes

    def _announce(self, host: str, port: int) -> None:
        logins = ", ".join(f"{name}" for name in DEMO_USERS)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nHuLiC is running at http://{host}:{port}/\n"
                f"  admin (organizers): http://{host}:{port}/admin/\n"
                f"  demo logins: {logins} — password '{DEMO_PASSWORD}' (organizer is staff)\n"
            )
        )
