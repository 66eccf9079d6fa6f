"""Celery tasks: thin, take ids, safe to run twice (the service claims the job atomically)."""

from celery import shared_task

from exports import services


@shared_task(
    acks_late=True, ignore_result=True, soft_time_limit=1800, time_limit=services.EXPORT_TASK_TIME_LIMIT_SECONDS
)
def export_job_build(job_id: int) -> None:
    services.export_job_run(job_id=job_id)


@shared_task(acks_late=True, ignore_result=True)
def exports_expire() -> int:
    return services.exports_expire()


@shared_task(acks_late=True, ignore_result=True)
def exports_resume_stale() -> int:
    """The beat safety net for exports: a job whose worker died (or whose queued task was lost) is queued again."""
    return services.exports_resume_stale()
