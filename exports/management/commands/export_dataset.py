from django.core.management.base import BaseCommand, CommandError

from competitions.models import Competition, Team
from exports import services
from exports.models import ExportJob


class Command(BaseCommand):
    help = "Build a dataset export now (in this process) and copy the zip to --out."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--format", choices=ExportJob.Format.values, default=ExportJob.Format.PARQUET)
        parser.add_argument("--scope", choices=ExportJob.Scope.values, default=ExportJob.Scope.ALL)
        parser.add_argument("--team", help="Team slug, for --scope team.")
        parser.add_argument("--out", required=True, help="Where to write the zip.")

    def handle(self, *args, slug, format, scope, team, out, **options):
        competition = Competition.objects.filter(slug=slug).first()
        if competition is None:
            raise CommandError(f"No competition {slug!r}.")
        team_obj = Team.objects.filter(slug=team).first() if team else None
        if scope == ExportJob.Scope.TEAM and team_obj is None:
            raise CommandError("--scope team needs an existing --team slug.")
        if scope != ExportJob.Scope.TEAM:
            team_obj = None
        job = ExportJob.objects.create(competition=competition, scope=scope, team=team_obj, format=format)
        job = services.export_job_run(job_id=job.pk)
        if job is None or job.status != ExportJob.Status.DONE:
            raise CommandError(f"Export failed: {job.error if job else 'job was taken by another run'}")
        services.export_to_path(job=job, destination=out)
        self.stdout.write(f"Wrote {out} ({job.file_size} bytes; {job.counts}).")
