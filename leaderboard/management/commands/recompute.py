from django.core.management.base import BaseCommand, CommandError

from competitions.models import Competition
from leaderboard.services import competition_recompute


class Command(BaseCommand):
    help = "Recompute a competition's leaderboard now."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug, **options):
        competition = Competition.objects.filter(slug=slug).first()
        if competition is None:
            raise CommandError(f"No competition {slug!r}.")
        competition_recompute(competition_id=competition.pk)
        self.stdout.write(f"Recomputed {slug}.")
