from django.core.management.base import BaseCommand, CommandError

from competitions.models import Competition
from exports import services


class Command(BaseCommand):
    help = "Recompute a competition's leaderboard now."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug, **options):
        competition = Competition.objects.filter(slug=slug).first()
        if competition is None:
            raise CommandError(f"No competition {slug!r}.")
        services.competition_recompute_now(competition=competition)
        self.stdout.write(f"Recomputed {slug}.")
