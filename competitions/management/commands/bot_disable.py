from django.core.management.base import BaseCommand, CommandError

from competitions.models import Bot
from competitions.services import bot_disable


class Command(BaseCommand):
    help = "Disable a bot of a competition (it gets no more chats)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("bot_name")

    def handle(self, *args, slug, bot_name, **options):
        bot = Bot.objects.filter(competition__slug=slug, name=bot_name).first()
        if bot is None:
            raise CommandError(f"No bot {bot_name!r} in {slug!r}.")
        bot_disable(bot=bot)
        self.stdout.write(f"Disabled {bot_name}.")
