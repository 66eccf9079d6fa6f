import io
import json
import zipfile

import pandas as pd

from exports.models import ExportJob
from exports.services import export_job_run


def run_export(competition, *, fmt: str, scope: str = "all", team=None) -> ExportJob:
    job = ExportJob.objects.create(competition=competition, scope=scope, format=fmt, team=team)
    return export_job_run(job_id=job.pk)


def read_archive(job: ExportJob) -> dict[str, bytes]:
    with job.file.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def tables(job: ExportJob) -> dict[str, pd.DataFrame]:
    """messages / judgments DataFrames, whatever the format (JSONL is flattened)."""
    files = read_archive(job)
    if job.format == "csv":
        return {name: pd.read_csv(io.BytesIO(files[f"{name}.csv"])) for name in ("messages", "judgments")}
    if job.format == "parquet":
        return {name: pd.read_parquet(io.BytesIO(files[f"{name}.parquet"])) for name in ("messages", "judgments")}
    conversations = pd.read_json(io.BytesIO(files["conversations.jsonl"]), lines=True)
    flat = {"messages": [], "judgments": []}
    for record in conversations.to_dict("records"):
        for name in flat:
            flat[name] += [{"conversation": record["conversation"], **row} for row in record[name]]
    return {name: pd.DataFrame(rows) for name, rows in flat.items()}


def jsonl_records(job: ExportJob) -> list[dict]:
    return [json.loads(line) for line in read_archive(job)["conversations.jsonl"].decode().splitlines()]


def run_queued_exports(callbacks) -> None:
    """The view queued exactly one build after commit; run that task here, in-process, as a worker would."""
    from exports.tasks import export_job_build

    assert len(callbacks) == 1
    for job in ExportJob.objects.filter(status=ExportJob.Status.QUEUED):
        export_job_build(job.pk)
