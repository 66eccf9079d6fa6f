"""`make run`: seed the demo, start the sample bots, health-check them, serve HTTP + websockets with uvicorn."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from competitions.health import bot_health_check
from competitions.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS, demo_bot_names
from competitions.models import Bot
from competitions.services import bot_update_endpoint

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


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def choose_bot_ports(*, previous: list[int | None], configured: tuple[int, ...], taken: set[int]) -> list[int]:
    """A port per sample bot: the configured one, else the one it had last run if still free, else any free one.

    ``taken`` holds the server's own port, so `make run PORT=8101` never hands it to a bot.
    """
    ports: list[int] = []
    for index, last in enumerate(previous):
        if index < len(configured):
            wanted = configured[index]
            if wanted in taken or wanted in ports:
                raise CommandError(f"DEMO_BOT_PORTS gives port {wanted} twice or to the server as well.")
            ports.append(wanted)
            continue
        if last and last not in taken and last not in ports and port_is_free(last):
            ports.append(last)
            continue
        port = free_port()
        while port in taken or port in ports:
            port = free_port()
        ports.append(port)
    return ports


class AnnouncingServer(uvicorn.Server):
    """Prints the banner once the socket is bound, so the address it gives already answers."""

    def __init__(self, config: uvicorn.Config, *, announce) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._announce()


class Command(BaseCommand):
    help = "Run the demo platform: demo data, sample bots and the ASGI server (HTTP + websockets)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options):
        if not port_is_free(port) and host in {"127.0.0.1", "localhost", "0.0.0.0"}:  # noqa: S104 - a comparison
            raise CommandError(f"Port {port} is already in use: choose another with `make run PORT=...`.")
        call_command("seed_demo")
        bots = self._start_bots(server_port=port)
        try:
            config = uvicorn.Config(
                "hulic.asgi:application",
                host=host,
                port=port,
                log_level="info",
                ws_max_size=settings.CHAT_MAX_FRAME_BYTES,
                lifespan="off",
            )
            AnnouncingServer(config, announce=lambda: self._announce(host, port)).run()
        finally:
            for process in bots:
                process.terminate()
            for process in bots:
                process.wait(timeout=5)

    def _start_bots(self, *, server_port: int) -> list[subprocess.Popen]:
        examples = Path(settings.BASE_DIR) / "examples" / "bots"
        bots = [Bot.objects.get(competition__slug="turing-demo", name=name) for name in demo_bot_names()]
        ports = choose_bot_ports(
            previous=[urlsplit(bot.endpoint_url).port for bot in bots],
            configured=settings.DEMO_BOT_PORTS,
            taken={server_port},
        )
        processes = []
        for bot, port in zip(bots, ports, strict=True):
            command = [sys.executable, str(examples / BOT_SCRIPTS[bot.name]), "--port", str(port)]
            # The secret goes by environment: a command line is visible to every user in `ps`.
            environment = {**os.environ, "BOT_SECRET": bot.signing_secret}
            processes.append(subprocess.Popen(command, env=environment))  # noqa: S603 - our own sample bot scripts
            wait_for_port("127.0.0.1", port)
            bot = bot_update_endpoint(bot=bot, endpoint_url=f"http://127.0.0.1:{port}/", changed_by=None, note="demo")
            call = bot_health_check(bot_id=bot.id)
            state = "live" if call.ok else f"FAILING: {call.detail}"
            self.stdout.write(f"Sample bot {bot.name} on port {port}: {state}")
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
        self.stdout.flush()
