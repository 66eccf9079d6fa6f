"""The organizers' control room page, its actions, and the matching management commands.

Actions that call other apps depend on them: disable a bot on competitions.services.bot_disable,
suspend an evaluator on chat.services.evaluator_suspend, recompute on leaderboard.services.competition_recompute.
"""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from chat.models import Evaluator, MatchRequest, Report
from competitions.models import Bot
from exports.models import ExportJob
from tests.exports.helpers import run_queued_exports
from tests.factories import EvaluatorFactory, JudgmentFactory, UserFactory


def _room(competition):
    return reverse("admin:controlroom_controlroom_room", args=[competition.pk])


def _act(competition):
    return reverse("admin:controlroom_controlroom_action", args=[competition.pk])


def test_control_room_shows_the_competition_at_a_glance(dataset, client, organizer):
    competition = dataset["competition"]
    MatchRequest.objects.create(competition=competition, user=UserFactory(), language="en")
    Report.objects.create(conversation=dataset["conversations"][0], reporter=dataset["judges"][0], reason="rude words")
    JudgmentFactory(conversation=dataset["conversations"][1], evaluator=UserFactory(), created_at=timezone.now())
    Bot.objects.filter(name="botqzx-beta").update(status=Bot.Status.FAILING, last_latency_ms=2345)
    client.force_login(organizer)

    response = client.get(_room(competition))

    assert response.status_code == 200
    snapshot = response.context["snapshot"]
    assert snapshot["chats_live"] == 1
    assert snapshot["evaluators_waiting"] == 1
    assert (snapshot["bots_live"], snapshot["bots_failing"]) == (1, 1)
    assert snapshot["flagged_messages_count"] == 1
    assert snapshot["open_reports_count"] == 1
    assert response.context["judgments_last_24h"] == 6
    page = response.content.decode()
    assert "<svg" in page
    assert page.count("<rect") == 24
    assert "2345 ms" in page
    assert "rude words" in page
    assert snapshot["last_recompute_at"] is None
    assert "never" in page
    assert reverse("review-progress", kwargs={"slug": competition.slug}) in page


def test_control_room_is_for_staff_only(dataset, client):
    url = _room(dataset["competition"])
    assert client.get(url).status_code == 302
    client.force_login(dataset["owner_a"])
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    client.force_login(UserFactory(username="staff-no-perms", is_staff=True))
    assert client.get(url).status_code == 403
    assert client.post(_act(dataset["competition"]), {"action": "pause"}).status_code == 403


def test_competition_list_links_to_each_control_room(dataset, client, organizer):
    client.force_login(organizer)
    response = client.get(reverse("admin:controlroom_controlroom_changelist"))
    assert response.status_code == 200
    assert _room(dataset["competition"]) in response.content.decode()


def test_actions_need_csrf(dataset, organizer):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(organizer)
    assert client.post(_act(dataset["competition"]), {"action": "pause"}).status_code == 403
    dataset["competition"].refresh_from_db()
    assert not dataset["competition"].matchmaking_paused


def test_pause_and_resume_matchmaking(dataset, client, organizer):
    competition = dataset["competition"]
    client.force_login(organizer)

    client.post(_act(competition), {"action": "pause"})
    competition.refresh_from_db()
    assert competition.matchmaking_paused
    page = client.get(_room(competition)).content.decode()
    assert "Matchmaking is paused." in page

    client.post(_act(competition), {"action": "resume"})
    competition.refresh_from_db()
    assert not competition.matchmaking_paused


def test_export_action_queues_a_full_export(dataset, client, organizer, django_capture_on_commit_callbacks):
    client.force_login(organizer)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(_act(dataset["competition"]), {"action": "export", "format": "parquet"})
    assert response.status_code == 302
    run_queued_exports(callbacks)
    job = ExportJob.objects.get()
    assert (job.scope, job.format, job.status, job.requested_by) == ("all", "parquet", "done", organizer)


def test_disable_bot_action(dataset, client, organizer):
    pytest.importorskip("competitions.services")
    bot = Bot.objects.get(name="botqzx-alpha")
    client.force_login(organizer)
    client.post(_act(dataset["competition"]), {"action": "disable_bot", "bot": bot.pk})
    bot.refresh_from_db()
    assert bot.status == Bot.Status.DISABLED


def test_suspend_evaluator_action(dataset, client, organizer):
    pytest.importorskip("chat.services")
    evaluator = EvaluatorFactory(competition=dataset["competition"], user=dataset["judges"][0])
    client.force_login(organizer)
    client.post(
        _act(dataset["competition"]), {"action": "suspend_evaluator", "username": "judge-qzx-0", "reason": "abuse"}
    )
    evaluator.refresh_from_db()
    assert evaluator.status == Evaluator.Status.SUSPENDED


def test_suspending_an_unknown_evaluator_shows_an_error(dataset, client, organizer):
    client.force_login(organizer)
    response = client.post(
        _act(dataset["competition"]), {"action": "suspend_evaluator", "username": "nobody", "reason": "x"}, follow=True
    )
    assert "No evaluator nobody" in response.content.decode()


def test_recompute_action_updates_the_last_recompute_time(dataset, client, organizer):
    pytest.importorskip("leaderboard.services")
    client.force_login(organizer)
    response = client.post(_act(dataset["competition"]), {"action": "recompute"}, follow=True)
    assert "Leaderboard recomputed." in response.content.decode()
    assert response.context["snapshot"]["last_recompute_at"] is not None


def test_commands_pause_resume_and_export(dataset, tmp_path):
    competition = dataset["competition"]
    call_command("matchmaking", competition.slug, "pause")
    competition.refresh_from_db()
    assert competition.matchmaking_paused
    call_command("matchmaking", competition.slug, "resume")
    competition.refresh_from_db()
    assert not competition.matchmaking_paused

    out = tmp_path / "team-a.zip"
    call_command(
        "export_dataset", competition.slug, "--format", "csv", "--scope", "team", "--team", "team-a", "--out", out
    )
    assert out.read_bytes()[:2] == b"PK"
    assert ExportJob.objects.get().counts["conversations"] == 2


def test_commands_disable_a_bot_and_suspend_an_evaluator(dataset):
    pytest.importorskip("competitions.services")
    pytest.importorskip("chat.services")
    evaluator = EvaluatorFactory(competition=dataset["competition"], user=dataset["judges"][1])
    call_command("bot_disable", dataset["competition"].slug, "botqzx-beta")
    call_command("evaluator_suspend", dataset["competition"].slug, "judge-qzx-1", "--reason", "spam")
    evaluator.refresh_from_db()
    assert Bot.objects.get(name="botqzx-beta").status == Bot.Status.DISABLED
    assert evaluator.status == Evaluator.Status.SUSPENDED


def test_judgments_per_hour_counts_the_last_24_hours(dataset):
    from controlroom.selectors import judgments_per_hour

    JudgmentFactory(
        conversation=dataset["conversations"][2],
        evaluator=UserFactory(),
        created_at=timezone.now() - timedelta(hours=30),
    )
    hours = judgments_per_hour(competition=dataset["competition"])
    assert len(hours) == 24
    assert sum(count for _hour, count in hours) == 5
