"""Issue 13: the public leaderboard lists only bots that have passed a health check, at most
`leaderboard_bots_per_team` per team; organizers see every bot; the chart's baseline label stays inside it."""

import pytest
from django.urls import reverse

from competitions.models import BotCall
from leaderboard.chart import interval_chart
from leaderboard.services import competition_recompute
from tests.factories import BotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(scenario):
    competition = scenario.competition
    competition.phase = "closed"
    competition.leaderboard_bots_per_team = 2
    competition.save(update_fields=["phase", "leaderboard_bots_per_team"])
    BotFactory(competition=competition, name="never-healthy")
    for name in ("alice-2", "alice-3"):
        extra = BotFactory(competition=competition, team=scenario.alice.team, name=name)
        BotCall.objects.create(bot=extra, purpose=BotCall.Purpose.HEALTH, ok=True)
    competition_recompute(competition_id=competition.pk)
    return scenario


def bots_listed(client, competition) -> set[str]:
    rows = client.get(reverse("api-leaderboard", kwargs={"slug": competition.slug})).json()["rows"]
    return {row["bot_name"] for row in rows}


def test_the_public_sees_healthy_bots_only_and_at_most_the_cap_per_team(client, board):
    listed = bots_listed(client, board.competition)
    assert "never-healthy" not in listed
    assert {"bob", "eliza"} <= listed
    assert len(listed & {"alice", "alice-2", "alice-3"}) == 2
    page = client.get(reverse("leaderboard", kwargs={"slug": board.competition.slug})).content.decode()
    assert "never-healthy" not in page


def test_organizers_see_every_bot(client, board, organizer):
    client.force_login(organizer)
    assert {"never-healthy", "alice", "alice-2", "alice-3"} <= bots_listed(client, board.competition)


def test_no_cap_when_the_setting_is_zero(client, board):
    board.competition.leaderboard_bots_per_team = 0
    board.competition.save(update_fields=["leaderboard_bots_per_team"])
    assert {"alice", "alice-2", "alice-3"} <= bots_listed(client, board.competition)


@pytest.mark.parametrize(("rate", "anchor"), [(0.95, "end"), (0.5, "middle"), (0.05, "start")])
def test_the_baseline_label_is_anchored_inside_the_chart(rate, anchor):
    chart = interval_chart([("bot", 0.4, 0.3, 0.5, False)], baseline=(rate, rate - 0.02, rate + 0.02))
    assert chart.baseline_anchor == anchor
