from django.core.management.base import BaseCommand, CommandError

from competitions.models import Competition
from competitions.services import competition_matchmaking_set


class Command(BaseCommand):
    help = "Pause or resume a competition's matchmaking."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("state", choices=["pause", "resume"])

    def handle(self, *args, slug, state, **options):
        competition = Competition.objects.filter(slug=slug).first()
        if competition is None:
            raise CommandError(f"No competition {slug!r}.")
        competition_matchmaking_set(competition=competition, paused=state == "pause")
        self.stdout.write(f"Matchmaking of {slug}: {'paused' if state == 'pause' else 'running'}.")
