"""Check a bot endpoint the way the platform calls it, before registering it.

python manage.py checkbot https://bot.example.org/hulic --secret whsec_...
python manage.py checkbot http://127.0.0.1:8101/ --secret whsec_... --allow-private
"""

import asyncio
import os

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from competitions import signing
from competitions.bot_client import (
    BotResult,
    BotTarget,
    build_health_payload,
    build_turn_payload,
    call_bot,
    close_client,
)

EVERY_NETWORK = ["0.0.0.0/0", "::/0"]


def _history(*turns: tuple[str, str]) -> list[dict]:
    now = timezone.now().isoformat()
    return [{"role": role, "text": text, "timestamp": now} for role, text in turns]


def probes() -> list[tuple[str, dict]]:
    return [
        ("health probe", build_health_payload(language="en", competition="checkbot")),
        (
            "English chat, 3 turns",
            build_turn_payload(
                conversation_id="checkbot-en",
                language="en",
                competition="checkbot",
                messages=_history(
                    ("user", "Hi! How is your day going?"),
                    ("bot", "Pretty good, thanks. Yours?"),
                    ("user", "Not bad. What do you do for fun?"),
                ),
            ),
        ),
        (
            "Korean chat, 3 turns",
            build_turn_payload(
                conversation_id="checkbot-ko",
                language="ko",
                competition="checkbot",
                messages=_history(
                    ("user", "안녕하세요! 오늘 하루 어땠어요?"),
                    ("bot", "괜찮았어요. 그쪽은요?"),
                    ("user", "저도 좋았어요. 주말에 보통 뭐 하세요?"),
                ),
            ),
        ),
    ]


class Command(BaseCommand):
    help = "Send signed probe conversations to a bot endpoint and report validity and latency for each."

    def add_arguments(self, parser):
        parser.add_argument("url", help="The bot's endpoint URL.")
        parser.add_argument("--secret", default=os.environ.get("BOT_SECRET", ""), help="whsec_... (or BOT_SECRET).")
        parser.add_argument(
            "--allow-private",
            action="store_true",
            help="Allow loopback and private addresses (for a bot running on your own machine).",
        )

    def handle(self, *args, url: str, secret: str, allow_private: bool, **options):
        if not secret:
            raise CommandError("Give the bot's signing secret with --secret or BOT_SECRET.")
        try:
            signing.secret_key(secret)
        except ValueError as error:
            raise CommandError(str(error)) from error
        target = BotTarget(bot_id=0, endpoint_url=url, signing_secret=secret)
        results = asyncio.run(self._run(target, EVERY_NETWORK if allow_private else None))
        failures = 0
        for (name, _), result in zip(probes(), results, strict=True):
            if result.ok:
                self.stdout.write(self.style.SUCCESS(f"OK    {name:24} {result.latency_ms:8.1f} ms  {result.reply!r}"))
            else:
                failures += 1
                line = f"FAIL  {name:24} {result.latency_ms:8.1f} ms  [{result.failure_kind}] {result.detail}"
                self.stdout.write(self.style.ERROR(line))
        if failures:
            raise CommandError(f"{failures} of {len(results)} probes failed.")
        self.stdout.write(self.style.SUCCESS(f"All {len(results)} probes passed."))

    async def _run(self, target: BotTarget, allowed_networks: list[str] | None) -> list[BotResult]:
        try:
            return [await call_bot(target, payload, allowed_networks=allowed_networks) for _, payload in probes()]
        finally:
            await close_client()
