"""Who may request and download what, through the services, the pages and the API."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from competitions.models import Competition
from exports.models import ExportJob
from exports.services import ExportNotAllowed, export_job_create, export_job_run
from tests.exports.helpers import run_export, run_queued_exports


def _allow_team_downloads(competition):
    competition.participant_downloads = Competition.ParticipantDownloads.OWN_CHATS
    competition.save(update_fields=["participant_downloads"])


def _publish(competition):
    competition.phase = Competition.Phase.CLOSED
    competition.dataset_published = True
    competition.save(update_fields=["phase", "dataset_published"])


def _download(client, job):
    url = reverse("export-download", kwargs={"slug": job.competition.slug, "public_id": job.public_id})
    return client.get(url)


def test_only_organizers_may_export_everything(dataset, organizer):
    with pytest.raises(ExportNotAllowed):
        export_job_create(competition=dataset["competition"], requested_by=dataset["owner_a"], scope="all", fmt="csv")
    job = export_job_create(competition=dataset["competition"], requested_by=organizer, scope="all", fmt="csv")
    assert job.scope == "all"


def test_a_team_cannot_export_another_teams_chats(dataset):
    _allow_team_downloads(dataset["competition"])
    with pytest.raises(ExportNotAllowed):
        export_job_create(
            competition=dataset["competition"],
            requested_by=dataset["owner_b"],
            scope="team",
            fmt="csv",
            team=dataset["team_a"],
        )


def test_teams_export_nothing_unless_the_competition_allows_it(dataset):
    with pytest.raises(ExportNotAllowed):
        export_job_create(
            competition=dataset["competition"],
            requested_by=dataset["owner_a"],
            scope="team",
            fmt="csv",
            team=dataset["team_a"],
        )


def test_team_downloads_its_own_chats_but_not_another_teams(dataset, client):
    _allow_team_downloads(dataset["competition"])
    job = run_export(dataset["competition"], fmt="csv", scope="team", team=dataset["team_a"])

    client.force_login(dataset["owner_b"])
    assert _download(client, job).status_code == 404
    client.force_login(dataset["owner_a"])
    response = _download(client, job)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content)[:2] == b"PK"


def test_team_loses_access_when_the_organizers_turn_downloads_off(dataset, client):
    _allow_team_downloads(dataset["competition"])
    job = run_export(dataset["competition"], fmt="csv", scope="team", team=dataset["team_a"])
    dataset["competition"].participant_downloads = Competition.ParticipantDownloads.NONE
    dataset["competition"].save(update_fields=["participant_downloads"])

    client.force_login(dataset["owner_a"])
    assert _download(client, job).status_code == 404


def test_nobody_gets_an_unpublished_public_release(dataset, client):
    with pytest.raises(ExportNotAllowed):
        export_job_create(competition=dataset["competition"], requested_by=None, scope="public", fmt="csv")
    job = run_export(dataset["competition"], fmt="csv", scope="public")

    assert _download(client, job).status_code == 404
    client.force_login(dataset["owner_a"])
    assert _download(client, job).status_code == 404


def test_everyone_gets_the_published_public_release(dataset, client):
    _publish(dataset["competition"])
    job = export_job_create(competition=dataset["competition"], requested_by=None, scope="public", fmt="parquet")
    again = export_job_create(competition=dataset["competition"], requested_by=None, scope="public", fmt="parquet")
    assert again.pk == job.pk
    export_job_run(job_id=job.pk)
    response = _download(client, job)
    assert response.status_code == 200
    page = client.get(reverse("export-data", kwargs={"slug": dataset["competition"].slug}))
    assert page.status_code == 200
    assert str(job.public_id) in page.content.decode()


def test_organizers_download_any_export(dataset, client, organizer):
    job = run_export(dataset["competition"], fmt="jsonl", scope="team", team=dataset["team_b"])
    client.force_login(organizer)
    assert _download(client, job).status_code == 200
    admin_url = reverse("admin:exports_exportjob_download", args=[job.pk])
    assert client.get(admin_url).status_code == 200


def test_data_page_request_form_creates_a_team_export(dataset, client, django_capture_on_commit_callbacks):
    _allow_team_downloads(dataset["competition"])
    client.force_login(dataset["owner_a"])
    url = reverse("export-request", kwargs={"slug": dataset["competition"].slug})

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url, {"format": "csv", "what": "team:team-a"})
    run_queued_exports(callbacks)
    refused = client.post(url, {"format": "csv", "what": "team:team-b"}, follow=True)

    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.team, job.status) == (dataset["team_a"], "done")
    assert "only your own team" in refused.content.decode()


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_api_creates_polls_and_downloads_with_a_token(dataset, django_capture_on_commit_callbacks):
    _allow_team_downloads(dataset["competition"])
    api = _api(dataset["owner_a"])
    url = reverse("api-competition-exports", kwargs={"slug": dataset["competition"].slug})

    with django_capture_on_commit_callbacks() as callbacks:
        created = api.post(url, {"format": "parquet", "scope": "team", "team": "team-a"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["status"] == "queued"
    run_queued_exports(callbacks)

    status = api.get(reverse("api-export-detail", kwargs={"public_id": created.json()["id"]})).json()
    assert status["status"] == "done"
    assert status["progress_percent"] == 100
    assert status["rows_written"] == 8 + 1 + 2
    download = api.get(status["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"PK"
    assert [job["id"] for job in api.get(url).json()] == [status["id"]]


def test_api_refuses_another_teams_export_and_hides_its_jobs(dataset):
    _allow_team_downloads(dataset["competition"])
    job = run_export(dataset["competition"], fmt="csv", scope="team", team=dataset["team_a"])
    api = _api(dataset["owner_b"])
    url = reverse("api-competition-exports", kwargs={"slug": dataset["competition"].slug})

    refused = api.post(url, {"format": "csv", "scope": "team", "team": "team-a"}, format="json")
    assert refused.status_code == 403
    assert api.get(reverse("api-export-detail", kwargs={"public_id": job.public_id})).status_code == 404
    assert api.get(reverse("api-export-download", kwargs={"public_id": job.public_id})).status_code == 404
    assert api.get(url).json() == []


def test_api_requires_authentication(dataset):
    url = reverse("api-competition-exports", kwargs={"slug": dataset["competition"].slug})
    assert APIClient().post(url, {"format": "csv", "scope": "all"}).status_code in (401, 403)


def test_api_download_of_an_unfinished_export_is_a_conflict(dataset, organizer):
    job = ExportJob.objects.create(competition=dataset["competition"], scope="all", format="csv")
    response = _api(organizer).get(reverse("api-export-download", kwargs={"public_id": job.public_id}))
    assert response.status_code == 409


def test_a_stranger_sees_no_export_on_the_data_page(dataset, client):
    run_export(dataset["competition"], fmt="csv")
    response = client.get(reverse("export-data", kwargs={"slug": dataset["competition"].slug}))
    assert response.status_code == 200
    assert "No exports yet" in response.content.decode()


def test_data_page_offers_each_user_only_what_they_may_export(dataset, client, organizer):
    _allow_team_downloads(dataset["competition"])
    url = reverse("export-data", kwargs={"slug": dataset["competition"].slug})

    client.force_login(organizer)
    staff_page = client.get(url).content.decode()
    client.force_login(dataset["owner_a"])
    team_page = client.get(url).content.decode()

    assert 'value="all:"' in staff_page
    assert 'value="all:"' not in team_page
    assert 'value="team:team-a"' in team_page
    assert 'value="team:team-b"' not in team_page
