"""Writes: creating and building export jobs, and expiring them."""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from competitions.models import Competition, Team
from exports import selectors
from exports.builder import ExportRequest, build_archive
from exports.datasheet import datasheet_markdown
from exports.models import ExportJob
from exports.pseudonyms import new_salt

logger = logging.getLogger(__name__)

# A worker that died mid-build leaves its job "running"; after this long another run may claim it.
EXPORT_TASK_TIME_LIMIT_SECONDS = 1900
PROGRESS_INTERVAL_SECONDS = 0.5


class ExportNotAllowed(Exception):
    """The user may not request this export."""


def _check_may_request(*, competition: Competition, user, scope: str, team: Team | None) -> None:
    is_staff = bool(user and user.is_authenticated and user.is_staff)
    if scope == ExportJob.Scope.ALL:
        if not is_staff:
            raise ExportNotAllowed("Only organizers may export the whole competition.")
    elif scope == ExportJob.Scope.PUBLIC:
        if not selectors.public_release_available(competition=competition):
            raise ExportNotAllowed("The public dataset is released only once the competition is closed and published.")
    elif scope == ExportJob.Scope.TEAM:
        if team is None:
            raise ExportNotAllowed("Choose a team.")
        if is_staff:
            return
        if not selectors.team_downloads_allowed(competition=competition):
            raise ExportNotAllowed("This competition does not let teams download their chats.")
        if not selectors.user_is_team_member(user=user, team=team):
            raise ExportNotAllowed("You can download only your own team's chats.")
    else:
        raise ExportNotAllowed(f"Unknown scope {scope!r}.")


def export_job_create(
    *, competition: Competition, requested_by, scope: str, fmt: str, team: Team | None = None
) -> ExportJob:
    """Create (or reuse a pending/published equivalent) export job and queue its build after commit."""
    if fmt not in ExportJob.Format.values:
        raise ExportNotAllowed(f"Unknown format {fmt!r}.")
    _check_may_request(competition=competition, user=requested_by, scope=scope, team=team)
    team = team if scope == ExportJob.Scope.TEAM else None
    reusable = [ExportJob.Status.QUEUED, ExportJob.Status.RUNNING]
    if scope == ExportJob.Scope.PUBLIC:
        # One public release per format: everyone downloads the same file.
        reusable.append(ExportJob.Status.DONE)
    existing = ExportJob.objects.filter(
        competition=competition, scope=scope, team=team, format=fmt, status__in=reusable
    ).first()
    if existing:
        return existing
    job = ExportJob.objects.create(
        competition=competition,
        scope=scope,
        team=team,
        format=fmt,
        requested_by=requested_by if requested_by and requested_by.is_authenticated else None,
    )
    export_job_queue(job=job)
    return job


def export_job_queue(*, job: ExportJob) -> None:
    from exports.tasks import export_job_build

    transaction.on_commit(lambda: export_job_build.delay(job.pk))


def export_job_retry(*, job: ExportJob) -> bool:
    """Put a failed job back in the queue; False if it was not failed."""
    requeued = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.FAILED).update(
        status=ExportJob.Status.QUEUED, error="", progress_percent=0, rows_written=0
    )
    if requeued:
        export_job_queue(job=job)
    return bool(requeued)


def _claim(job_id: int) -> bool:
    now = timezone.now()
    stale = now - timedelta(seconds=EXPORT_TASK_TIME_LIMIT_SECONDS)
    claimable = Q(status=ExportJob.Status.QUEUED) | Q(status=ExportJob.Status.RUNNING, started_at__lt=stale)
    return (
        ExportJob.objects.filter(claimable, pk=job_id).update(
            status=ExportJob.Status.RUNNING,
            started_at=now,
            finished_at=None,
            progress_percent=0,
            rows_written=0,
            error="",
        )
        == 1
    )


class _Progress:
    """Writes rows and percent to the job row at most every PROGRESS_INTERVAL_SECONDS."""

    def __init__(self, job_id: int, total: int) -> None:
        self.job_id, self.total, self.rows, self._last = job_id, total, 0, 0.0

    def __call__(self, rows: int) -> None:
        self.rows += rows
        if time.monotonic() - self._last >= PROGRESS_INTERVAL_SECONDS:
            self.flush()

    def flush(self) -> None:
        self._last = time.monotonic()
        percent = min(99, self.rows * 100 // self.total) if self.total else 0
        ExportJob.objects.filter(pk=self.job_id, status=ExportJob.Status.RUNNING).update(
            rows_written=self.rows, progress_percent=percent
        )


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Build the job's archive; None if another run holds it. Failures end as status "failed" with the reason."""
    if not _claim(job_id):
        return None
    job = ExportJob.objects.select_related("competition", "team").get(pk=job_id)
    archive = None
    try:
        total = selectors.export_row_total(competition=job.competition, scope=job.scope, team=job.team)
        ExportJob.objects.filter(pk=job.pk).update(rows_total=total)
        progress = _Progress(job.pk, total)
        request = ExportRequest(
            competition=job.competition, scope=job.scope, format=job.format, team=job.team, salt=new_salt()
        )
        archive, summary = build_archive(
            request,
            datasheet=lambda summary, specs: datasheet_markdown(job=job, summary=summary, specs=specs),
            on_rows=progress,
        )
        progress.flush()
        _store(job, archive, summary)
    except Exception as exc:
        logger.exception("Export job %s failed", job_id)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
    finally:
        if archive is not None:
            archive.unlink(missing_ok=True)
    job.refresh_from_db()
    return job


def _store(job: ExportJob, archive, summary: dict) -> None:
    previous = job.file.name if job.file else ""
    with archive.open("rb") as handle:
        job.file.save(job.download_name, File(handle), save=False)
    if previous and previous != job.file.name:
        job.file.storage.delete(previous)
    now = timezone.now()
    job.file_size = job.file.size
    job.counts = {key: summary[key] for key in ("conversations", "messages", "judgments", "evaluators")}
    job.status = ExportJob.Status.DONE
    job.progress_percent = 100
    job.rows_written = summary["messages"] + summary["judgments"]
    job.finished_at = now
    job.expires_at = now + timedelta(days=settings.EXPORT_EXPIRY_DAYS)
    job.save(update_fields=["file", "file_size", "counts", "status", "progress_percent", "finished_at", "expires_at"])


def export_to_path(*, job: ExportJob, destination) -> None:
    """Copy a finished job's archive to a local path (for the management command)."""
    with job.file.open("rb") as source, open(destination, "wb") as target:
        for chunk in source.chunks():
            target.write(chunk)


def exports_expire(*, now=None) -> int:
    """Delete the files of finished exports past their expiry and mark them expired."""
    now = now or timezone.now()
    expired = 0
    for job in ExportJob.objects.filter(status=ExportJob.Status.DONE, expires_at__lte=now):
        claimed = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.DONE).update(
            status=ExportJob.Status.EXPIRED
        )
        if not claimed:
            continue
        if job.file:
            job.file.storage.delete(job.file.name)
        ExportJob.objects.filter(pk=job.pk).update(file="")
        expired += 1
    return expired
