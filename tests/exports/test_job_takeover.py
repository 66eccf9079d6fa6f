"""Export jobs outlive their worker: a job whose heartbeat stopped is taken over and finishes."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from exports import services
from exports.models import ExportJob
from exports.services import export_job_create, export_job_retry, export_job_run, exports_resume_stale
from exports.tasks import export_job_build


def abandoned_job(competition, *, silent_for_s: float, status: str = "running", fmt: str = "csv") -> ExportJob:
    """A job as a worker killed mid-build leaves it: running, its heartbeat stopped ``silent_for_s`` ago."""
    since = timezone.now() - timedelta(seconds=silent_for_s)
    job = ExportJob.objects.create(competition=competition, scope="all", format=fmt)
    ExportJob.objects.filter(pk=job.pk).update(status=status, started_at=since, heartbeat_at=since, progress_percent=40)
    return job


def run_queued(callbacks, job) -> ExportJob:
    """Run the builds queued after commit, as a worker would."""
    for callback in callbacks:
        callback()
    export_job_build(job.pk)
    job.refresh_from_db()
    return job


def test_the_beat_task_takes_over_a_job_whose_heartbeat_stopped(dataset, settings, django_capture_on_commit_callbacks):
    settings.EXPORT_STALE_SECONDS = 40
    dead = abandoned_job(dataset["competition"], silent_for_s=41)
    alive = abandoned_job(dataset["competition"], silent_for_s=5, fmt="jsonl")

    with django_capture_on_commit_callbacks() as callbacks:
        assert exports_resume_stale() == 1

    assert ExportJob.objects.get(pk=alive.pk).status == "running"  # its worker is alive: left alone
    assert len(callbacks) == 1
    assert run_queued([], dead).status == "done"


def test_a_redelivered_task_takes_over_only_a_silent_job(dataset, settings):
    settings.EXPORT_STALE_SECONDS = 40
    alive = abandoned_job(dataset["competition"], silent_for_s=5)
    dead = abandoned_job(dataset["competition"], silent_for_s=41, fmt="jsonl")

    assert export_job_run(job_id=alive.pk) is None
    assert export_job_run(job_id=dead.pk).status == "done"


def test_requesting_the_same_export_again_does_not_return_a_stuck_job(
    dataset, organizer, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_STALE_SECONDS = 40
    stuck = abandoned_job(dataset["competition"], silent_for_s=120)

    with django_capture_on_commit_callbacks() as callbacks:
        job = export_job_create(competition=dataset["competition"], requested_by=organizer, scope="all", fmt="csv")

    assert job.pk == stuck.pk and job.status == "queued"
    assert run_queued(callbacks, job).status == "done"


def test_the_admin_retry_takes_over_a_stalled_job_but_not_a_live_one(
    dataset, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_STALE_SECONDS = 40
    stalled = abandoned_job(dataset["competition"], silent_for_s=60)
    live = abandoned_job(dataset["competition"], silent_for_s=1, fmt="jsonl")

    with django_capture_on_commit_callbacks() as callbacks:
        assert export_job_retry(job=live) is False
        assert export_job_retry(job=stalled) is True

    assert run_queued(callbacks, stalled).status == "done"


@pytest.mark.django_db(transaction=True)  # the heartbeat thread has its own connection: it sees committed rows
def test_a_build_renews_its_heartbeat_while_it_runs(dataset, settings, monkeypatch):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite admits one writer at a time: builds there renew no heartbeat")
    settings.EXPORT_HEARTBEAT_SECONDS = 0.01
    beats = []
    real_build = services._build

    def slow_build(job_id):
        first = ExportJob.objects.get(pk=job_id).heartbeat_at
        time.sleep(0.3)
        beats.append((first, ExportJob.objects.get(pk=job_id).heartbeat_at))
        return real_build(job_id)

    monkeypatch.setattr(services, "_build", slow_build)
    job = ExportJob.objects.create(competition=dataset["competition"], scope="all", format="csv")
    assert export_job_run(job_id=job.pk).status == "done"
    first, later = beats[0]
    assert later > first
