"""Writes: creating and building export jobs, and expiring them."""

import json
import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from competitions.models import Competition, Team
from exports import selectors
from exports.builder import ExportRequest, build_archive
from exports.datasheet import datasheet_markdown
from exports.models import ExportJob
from exports.pseudonyms import new_salt
from hulic.log_throttle import ThrottledLog

logger = logging.getLogger(__name__)
quiet_log = ThrottledLog(logger)

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
        # A job whose worker died is queued again rather than handed back stuck.
        _requeue_if_stale(existing)
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
    """Queue the build after commit. With the broker down the job stays queued and beat's exports_resume_stale
    queues it again after EXPORT_STALE_SECONDS: the request still succeeds."""
    from exports.tasks import export_job_build

    def queue() -> None:
        try:
            export_job_build.delay(job.pk)
        except Exception as error:
            quiet_log.warning(
                "export-queue", "queueing export job %s failed; it is queued again later", job.pk, error=error
            )

    transaction.on_commit(queue)


def _stale_jobs():
    """Queued or running jobs with no sign of life for EXPORT_STALE_SECONDS: the worker building it died (kill -9,
    out of memory, a lost host), or the queued task was lost with the broker's data. A live build renews its
    heartbeat every EXPORT_HEARTBEAT_SECONDS; a queued job's heartbeat is when it was last queued."""
    stale = timezone.now() - timedelta(seconds=settings.EXPORT_STALE_SECONDS)
    return ExportJob.objects.alias(alive_at=Coalesce("heartbeat_at", "started_at", "created_at")).filter(
        status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING], alive_at__lt=stale
    )


def _requeue_if_stale(job: ExportJob) -> bool:
    requeued = (
        _stale_jobs()
        .filter(pk=job.pk)
        .update(status=ExportJob.Status.QUEUED, heartbeat_at=timezone.now(), progress_percent=0, rows_written=0)
    )
    if requeued:
        job.status = ExportJob.Status.QUEUED
        export_job_queue(job=job)
    return bool(requeued)


def exports_resume_stale() -> int:
    """Queue every stale job again (the beat task): a job taken over finishes instead of staying "running"."""
    return sum(_requeue_if_stale(job) for job in _stale_jobs())


def export_job_retry(*, job: ExportJob) -> bool:
    """Put a failed or stalled job back in the queue; False if it is neither (a live build, a finished job)."""
    requeued = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.FAILED).update(
        status=ExportJob.Status.QUEUED, error="", progress_percent=0, rows_written=0, heartbeat_at=timezone.now()
    )
    if requeued:
        export_job_queue(job=job)
        return True
    return _requeue_if_stale(job)


def _claim(job_id: int) -> bool:
    """Queued, or running with a stopped heartbeat: a redelivered task then takes over the dead worker's job."""
    now = timezone.now()
    claimable = Q(status=ExportJob.Status.QUEUED) | Q(pk__in=_stale_jobs().values("pk"))
    return (
        ExportJob.objects.filter(claimable, pk=job_id).update(
            status=ExportJob.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
            progress_percent=0,
            rows_written=0,
            error="",
        )
        == 1
    )


class _Heartbeat:
    """Renews the job's heartbeat from a thread while the build runs, whatever phase it is in (queries, pandas,
    zipping): a worker killed mid-build stops it, and the job is taken over (exports_resume_stale)."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"export-heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> "_Heartbeat":
        if connection.vendor != "sqlite":  # SQLite (the embedded default) admits one writer at a time
            self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(settings.EXPORT_HEARTBEAT_SECONDS):
                try:
                    ExportJob.objects.filter(pk=self.job_id, status=ExportJob.Status.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception:
                    logger.warning("renewing the heartbeat of export job %s failed", self.job_id, exc_info=True)
        finally:
            connection.close()


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
    with _Heartbeat(job_id):
        return _build(job_id)


def _build(job_id: int) -> ExportJob:
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
            extra_files={"ANALYSIS_PLAN.json": analysis_plan_json(competition=job.competition)},
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


def analysis_plan_json(*, competition: Competition) -> str:
    """The competition's analysis plan, every version with its hash (the locked one first), for the archive."""
    from leaderboard.selectors import analysis_plans

    versions = [
        {"kind": plan.kind, "recorded_at": plan.recorded_at.isoformat(), "sha256": plan.sha256, "plan": plan.plan}
        for plan in analysis_plans(competition=competition)
    ]
    return json.dumps({"competition": competition.slug, "versions": versions}, ensure_ascii=False, indent=2)


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
