"""Issue 11, channel 5: before closing, the public sees numbers published at scheduled boundaries, never live ones.

A judgment after a publication must not change any public number, page, API answer or CSV until the next
boundary; organizers see live numbers throughout, and everyone does once the competition is closed.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from chat.models import Judgment
from competitions.models import Competition
from leaderboard.models import PublishedLeaderboard
from leaderboard.publication import leaderboards_publish_due, publication_period_start
from leaderboard.services import competition_recompute
from tests.leaderboard.conftest import judge_bot

pytestmark = pytest.mark.django_db

MIDNIGHT = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def public_board(scenario):
    competition = scenario.competition
    competition.leaderboard_public_during_evaluation = True
    competition.save(update_fields=["leaderboard_public_during_evaluation"])
    competition_recompute(competition_id=competition.pk)
    return scenario


def api_answer(competition, user=None, language="en") -> dict:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    url = reverse("api-leaderboard", kwargs={"slug": competition.slug})
    return api.get(url, HTTP_ACCEPT_LANGUAGE=language).json()


def chats_of(answer: dict, name: str) -> int:
    return next(row["chats"] for row in answer["rows"] if row["bot_name"] == name)


def public_view(client, competition) -> tuple[dict, bytes, str]:
    """Everything an anonymous visitor can fetch: the API answer, the CSV and the page's board."""
    slug = {"slug": competition.slug}
    csv = client.get(reverse("leaderboard-csv", kwargs=slug)).content
    page = client.get(reverse("leaderboard", kwargs=slug)).content.decode()
    board = page[page.index('id="lb-publication"') : page.index("lb-method")]
    return api_answer(competition), csv, board


def a_new_judgment(scenario) -> None:
    judge_bot(bot=scenario.bob, evaluator=scenario.evaluators[0], verdict=Judgment.Verdict.HUMAN)
    competition_recompute(competition_id=scenario.competition.pk)


def test_boundaries_are_whole_periods_in_utc(competition):
    at = MIDNIGHT + timedelta(hours=13, minutes=7)
    assert publication_period_start(competition=competition, now=at) == MIDNIGHT
    competition.leaderboard_publication_hours = 6
    assert publication_period_start(competition=competition, now=at) == MIDNIGHT + timedelta(hours=12)


def test_the_beat_publishes_the_due_copies():
    assert (
        settings.CELERY_BEAT_SCHEDULE["leaderboards-publish-due"]["task"]
        == "leaderboard.tasks.leaderboards_publish_due"
    )


def test_before_the_first_publication_the_public_sees_no_numbers(client, public_board, organizer):
    answer = api_answer(public_board.competition)
    assert answer["rows"] == [] and answer["snapshot"] is None and answer["published_at"] is None
    assert answer["next_publication_at"] is not None
    page = client.get(reverse("leaderboard", kwargs={"slug": public_board.competition.slug})).content.decode()
    assert "No numbers have been published yet." in page and "lb-point" not in page
    assert chats_of(api_answer(public_board.competition, organizer), "bob") == 22


def test_a_judgment_after_a_publication_changes_no_public_number_until_the_next_boundary(
    client, public_board, organizer
):
    competition = public_board.competition
    assert leaderboards_publish_due(now=MIDNIGHT + timedelta(minutes=3)) == 1
    before = public_view(client, competition)
    assert chats_of(before[0], "bob") == 22
    assert before[0]["published_at"] == MIDNIGHT.isoformat()
    assert before[0]["snapshot"]["computed_at"].startswith("2026-12-01T00:00:00")  # not the recompute's time

    a_new_judgment(public_board)
    assert chats_of(api_answer(competition, organizer), "bob") == 23  # organizers: live
    assert public_view(client, competition) == before
    assert leaderboards_publish_due(now=MIDNIGHT + timedelta(hours=23, minutes=59)) == 0
    assert public_view(client, competition) == before

    assert leaderboards_publish_due(now=MIDNIGHT + timedelta(days=1, minutes=1)) == 1
    after = api_answer(competition)
    assert chats_of(after, "bob") == 23
    assert after["published_at"] == (MIDNIGHT + timedelta(days=1)).isoformat()


def test_once_the_competition_closes_the_public_sees_live_numbers(client, public_board):
    competition = public_board.competition
    leaderboards_publish_due(now=MIDNIGHT)
    a_new_judgment(public_board)
    competition.phase = Competition.Phase.CLOSED
    competition.save(update_fields=["phase"])
    answer = api_answer(competition)
    assert chats_of(answer, "bob") == 23 and answer["published_at"] is None
    assert leaderboards_publish_due(now=MIDNIGHT + timedelta(days=1)) == 0  # closed: nothing to publish


def test_the_public_copy_is_explained_in_korean(client, public_board):
    leaderboards_publish_due(now=MIDNIGHT)
    url = reverse("leaderboard", kwargs={"slug": public_board.competition.slug})
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    with translation.override("ko"):
        note = translation.gettext("next publication")
    assert note != "next publication" and note in page


def test_every_verdict_label_is_translated_when_read(public_board):
    leaderboards_publish_due(now=MIDNIGHT)
    stored = {row["verdict"] for row in PublishedLeaderboard.objects.get().rows}
    english = {row["verdict"]: row["verdict_label"] for row in api_answer(public_board.competition)["rows"]}
    korean = {
        row["verdict"]: row["verdict_label"] for row in api_answer(public_board.competition, language="ko")["rows"]
    }
    assert set(english) == stored
    assert all(korean[verdict] != english[verdict] for verdict in stored)


def test_the_three_party_board_stays_with_organizers_until_closing(client, public_board, organizer):
    slug = {"slug": public_board.competition.slug}
    assert client.get(reverse("leaderboard-three-party", kwargs=slug)).status_code == 403
    assert APIClient().get(reverse("api-leaderboard-three-party", kwargs=slug)).status_code == 403
    client.force_login(organizer)
    assert client.get(reverse("leaderboard-three-party", kwargs=slug)).status_code == 200
