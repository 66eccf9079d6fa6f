"""Check or recount the leaderboard's running tallies (Postgres).

python manage.py leaderboard_tallies                 # check every competition: tallies equal to a recount?
python manage.py leaderboard_tallies --rebuild       # recount them (after loading rows with triggers disabled)
python manage.py leaderboard_tallies --competition turing-2026 --rebuild
"""

from django.core.management.base import BaseCommand, CommandError

from competitions.models import Competition
from leaderboard import tallies


class Command(BaseCommand):
    help = "Check the leaderboard tallies against a recount of the rows, or recount them."

    def add_arguments(self, parser):
        parser.add_argument("--competition", metavar="SLUG", help="one competition (default: all)")
        parser.add_argument("--rebuild", action="store_true", help="recount instead of checking")

    def handle(self, *args, competition=None, rebuild=False, **options):
        if not tallies.tallies_kept():
            raise CommandError("Tallies are kept on Postgres only; this database runs the portable queries.")
        competitions = Competition.objects.order_by("pk")
        if competition:
            competitions = competitions.filter(slug=competition)
            if not competitions.exists():
                raise CommandError(f"No competition {competition!r}.")
        drifted = []
        for item in competitions:
            if rebuild:
                tallies.tallies_rebuild(competition_id=item.pk)
                self.stdout.write(f"{item.slug}: recounted")
                continue
            drift = tallies.tallies_drift(competition_id=item.pk)
            self.stdout.write(f"{item.slug}: {'ok' if not drift else f'{len(drift)} rows differ from a recount'}")
            if drift:
                drifted.append(item.slug)
        if drifted:
            raise CommandError(f"Tallies differ from a recount in {', '.join(drifted)}; run with --rebuild.")
