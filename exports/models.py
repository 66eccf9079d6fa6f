"""Dataset export jobs: one row per requested export file, built by a Celery task."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from competitions.models import Competition, Team


class ExportJob(models.Model):
    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSONL"
        PARQUET = "parquet", "Parquet"

    class Scope(models.TextChoices):
        ALL = "all", _("Everything (organizers)")
        TEAM = "team", _("One team's bot chats")
        PUBLIC = "public", _("Public release")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="export_jobs")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="export_jobs")
    format = models.CharField(max_length=10, choices=Format.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress_percent = models.PositiveSmallIntegerField(default=0)
    rows_written = models.PositiveBigIntegerField(default=0)
    rows_total = models.PositiveBigIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True)
    file_size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="Conversations, messages, judgments exported.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Renewed while a worker builds the job (and set when it is queued): a job whose heartbeat stopped belongs to a
    # worker that died, and is taken over (exports.services.exports_resume_stale).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope="team", team__isnull=False) | (~models.Q(scope="team") & models.Q(team=None)),
                name="exportjob_team_iff_team_scope",
            ),
            models.CheckConstraint(condition=models.Q(progress_percent__lte=100), name="exportjob_percent_max_100"),
        ]
        indexes = [
            models.Index(fields=["competition", "scope", "status"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.competition.slug} {self.scope} {self.format} ({self.status})"

    @property
    def is_downloadable(self) -> bool:
        return self.status == self.Status.DONE and bool(self.file)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.EXPIRED)

    @property
    def download_name(self) -> str:
        stamp = (self.finished_at or self.created_at).strftime("%Y%m%d")
        suffix = f"-{self.team.slug}" if self.team_id else ""
        return f"hulic-{self.competition.slug}-{self.scope}{suffix}-{self.format}-{stamp}.zip"
