"""`make deploy`: what a server needs before it starts, outside Docker (the image does the same when it is built)."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Prepare a deployment: collect static files, compile translations, apply migrations."

    def handle(self, *args, **options):
        settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
        call_command("collectstatic", interactive=False, verbosity=options["verbosity"])
        call_command("compilemessages", ignore_patterns=[".venv", "staticfiles"], verbosity=options["verbosity"])
        call_command("migrate", interactive=False, verbosity=options["verbosity"])
        self.stdout.write(self.style.SUCCESS(f"Ready to serve; static files in {settings.STATIC_ROOT}."))
