"""Job lifecycle: queueing after commit, atomic claims, progress, failures with a reason, expiry."""

import os
from datetime import timedelta

from django.utils import timezone

from exports import services
from exports.models import ExportJob
from exports.services import export_job_create, export_job_run, exports_expire
from exports.tasks import exports_expire as exports_expire_task
from tests.exports.helpers import run_export, run_queued_exports


def test_creating_a_job_queues_its_build_after_commit(dataset, organizer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        job = export_job_create(competition=dataset["competition"], requested_by=organizer, scope="all", fmt="csv")
        assert ExportJob.objects.get(pk=job.pk).status == "queued"

    run_queued_exports(callbacks)
    job.refresh_from_db()
    assert job.status == "done"
    assert job.progress_percent == 100
    assert job.rows_written == job.rows_total == 17 + 5
    assert job.expires_at > timezone.now() + timedelta(days=29)


def test_a_job_is_built_once_even_if_the_task_runs_twice(dataset):
    job = run_export(dataset["competition"], fmt="csv")
    first_file = job.file.name

    assert export_job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.file.name == first_file
    assert job.status == "done"


def test_a_stale_running_job_is_claimed_again_and_overwrites(dataset, settings):
    job = run_export(dataset["competition"], fmt="csv")
    old_file = job.file.name
    silent_since = timezone.now() - timedelta(seconds=settings.EXPORT_STALE_SECONDS + 1)
    ExportJob.objects.filter(pk=job.pk).update(status="running", started_at=silent_since, heartbeat_at=silent_since)

    job = export_job_run(job_id=job.pk)

    assert job.status == "done"
    assert job.file.storage.exists(job.file.name)
    assert old_file == job.file.name or not job.file.storage.exists(old_file)


def test_progress_is_written_while_the_export_runs(dataset, monkeypatch):
    monkeypatch.setattr(services, "PROGRESS_INTERVAL_SECONDS", 0)
    seen = []
    original_flush = services._Progress.flush

    def recording_flush(progress):
        original_flush(progress)
        job = ExportJob.objects.get(pk=progress.job_id)
        seen.append((job.status, job.rows_written, job.progress_percent))

    monkeypatch.setattr(services._Progress, "flush", recording_flush)

    run_export(dataset["competition"], fmt="jsonl")

    running = [entry for entry in seen if entry[0] == "running"]
    assert running, seen
    assert [rows for _status, rows, _percent in running] == sorted(rows for _status, rows, _percent in running)
    assert any(0 < percent < 100 for _status, _rows, percent in running)


def test_a_failing_export_is_marked_failed_with_its_reason(dataset, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    settings.MEDIA_ROOT = blocker

    job = run_export(dataset["competition"], fmt="csv")

    assert job.status == "failed"
    assert "NotADirectoryError" in job.error or "FileExistsError" in job.error
    assert job.finished_at is not None
    assert not job.is_downloadable


def test_expired_exports_lose_their_file_and_are_marked_expired(dataset, settings):
    old = run_export(dataset["competition"], fmt="csv")
    fresh = run_export(dataset["competition"], fmt="parquet")
    ExportJob.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    path = old.file.path

    assert exports_expire_task() == 1

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == "expired"
    assert not old.file
    assert not os.path.exists(path)
    assert fresh.status == "done"
    assert exports_expire() == 0


def test_expiry_task_is_in_the_beat_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "exports.tasks.exports_expire" in tasks
    assert exports_expire_task.name == "exports.tasks.exports_expire"
