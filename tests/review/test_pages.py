"""The review page, the leaderboard's Review tab, its CSV and API, and the organizers' progress page."""

import csv
import io
import random

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from chat.models import Conversation
from competitions.models import Competition
from review import services
from review.models import PairwiseReview, ReviewAssignment, SingleReview

pytestmark = pytest.mark.django_db


def test_review_page_shows_a_single_transcript_as_interrogator_and_witness(client, world):
    reviewer = world.reviewers[0]
    world.settings.pairwise_share = 0.0
    world.settings.save()
    client.force_login(reviewer)
    response = client.get(reverse("review", kwargs={"slug": world.competition.slug}))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("rv-speaker") == 6
    assert "Interrogator" in html and "Witness" in html
    assignment = ReviewAssignment.objects.get(reviewer=reviewer)
    conversation = Conversation.objects.get(pk=assignment.item.first_id)
    # Blind: no alias, no partner kind, no bot name, no timing.
    assert conversation.alias_b == "Partner" and "Partner" not in html
    assert "alpha-bot" not in html and "beta-bot" not in html and "gamma-bot" not in html
    assert "data-partner-kind" not in html and "<time" not in html

    response = client.post(
        reverse("review", kwargs={"slug": world.competition.slug}),
        {"assignment": str(assignment.public_id), "verdict": "human", "confidence": "4", "reason": "Typos."},
    )
    assert response.status_code == 302
    review = SingleReview.objects.get()
    assert (review.verdict, review.confidence, review.reason) == ("human", 4, "Typos.")


def test_review_page_records_a_pairwise_choice(client, world):
    reviewer = world.reviewers[0]
    world.settings.pairwise_share = 1.0
    world.settings.save()
    client.force_login(reviewer)
    url = reverse("review", kwargs={"slug": world.competition.slug})
    html = client.get(url).content.decode()
    assert "Which witness sounds more human?" in html
    assert 'id="rv-left"' in html and 'id="rv-right"' in html
    assignment = ReviewAssignment.objects.get(reviewer=reviewer)
    response = client.post(url, {"assignment": str(assignment.public_id), "chosen_side": "left", "reason": ""})
    assert response.status_code == 200 and not PairwiseReview.objects.exists(), "a reason is required"
    client.post(url, {"assignment": str(assignment.public_id), "chosen_side": "left", "reason": "Warmer."})
    assert PairwiseReview.objects.get().chosen_id == assignment.left_right[0]


def test_a_stale_form_does_not_answer_the_next_item(client, world):
    reviewer = world.reviewers[0]
    client.force_login(reviewer)
    url = reverse("review", kwargs={"slug": world.competition.slug})
    client.get(url)
    client.post(url, {"assignment": "00000000-0000-0000-0000-000000000000", "chosen_side": "left", "verdict": "bot"})
    assert not SingleReview.objects.exists() and not PairwiseReview.objects.exists()


def test_review_page_explains_why_there_is_nothing_to_review(client, world):
    world.settings.enabled = False
    world.settings.save()
    client.force_login(world.reviewers[0])
    response = client.get(reverse("review", kwargs={"slug": world.competition.slug}))
    assert "Transcript review is not open" in response.content.decode()
    assert not ReviewAssignment.objects.exists()


def _reviewed_world(world):
    world.settings.pairwise_share = 1.0
    world.settings.reviews_per_reviewer = 6
    world.settings.save()
    for n, reviewer in enumerate(world.reviewers):
        rng = random.Random(n)
        for _ in range(6):
            try:
                assignment = services.review_next(competition=world.competition, user=reviewer, rng=rng)
            except services.NothingToReview:
                break
            services.review_record_pairwise(
                assignment_id=assignment.pk, user=reviewer, chosen_side="left", reason="Left."
            )
    return services.review_recompute(competition_id=world.competition.pk, replicates=100)


def test_review_tab_shows_the_bradley_terry_table_chart_and_agreement(client, world):
    world.competition.phase = Competition.Phase.CLOSED
    world.competition.save()
    snapshot = _reviewed_world(world)
    response = client.get(reverse("review-board", kwargs={"slug": world.competition.slug}))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="review-table"' in html and "lb-chart" in html and 'id="rv-alpha-pairwise"' in html
    assert "Human witness" in html
    assert len(snapshot.witnesses) == 4

    leaderboard = client.get(reverse("leaderboard", kwargs={"slug": world.competition.slug})).content.decode()
    assert reverse("review-board", kwargs={"slug": world.competition.slug}) in leaderboard


def test_review_csv_and_api_follow_the_leaderboard_visibility(client, world):
    _reviewed_world(world)
    url_csv = reverse("review-board-csv", kwargs={"slug": world.competition.slug})
    url_api = reverse("api-review-board", kwargs={"slug": world.competition.slug})
    assert client.get(url_csv).status_code == 403
    hidden = client.get(url_api)
    assert hidden.status_code == 403 and set(hidden.json()) == {"code", "detail"}
    # The schema documents that answer (schemathesis checks every answer against it).
    schema = SchemaGenerator().get_schema(request=None, public=True)
    responses = schema["paths"]["/api/v1/competitions/{slug}/review/"]["get"]["responses"]
    assert responses["403"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ApiError"

    world.competition.phase = Competition.Phase.CLOSED
    world.competition.save()
    rows = list(csv.reader(io.StringIO(client.get(url_csv).content.decode())))
    assert rows[0][:3] == ["rank", "name", "team"]
    assert len(rows) == 5
    data = client.get(url_api).json()
    assert data["competition"] == world.competition.slug
    assert {row["name"] for row in data["snapshot"]["witnesses"]} == {"human", "alpha-bot", "beta-bot", "gamma-bot"}
    assert len(data["snapshot"]["win_rates"]) == 4


def test_csv_cells_that_look_like_formulas_are_neutralised(client, world):
    world.bots[1].name = "=HYPERLINK(1)"
    world.bots[1].save()
    world.competition.phase = Competition.Phase.CLOSED
    world.competition.save()
    _reviewed_world(world)
    body = client.get(reverse("review-board-csv", kwargs={"slug": world.competition.slug})).content.decode()
    assert "'=HYPERLINK(1)" in body


def test_progress_page_is_for_organizers_and_lists_flagged_reviewers(client, world, organizer):
    world.settings.gold_rate = 0.5
    world.settings.strike_limit = 0
    world.settings.save()
    services.gold_mark(competition=world.competition, first=world.chats[5])
    cheat = world.reviewers[0]
    rng = random.Random(1)
    while not cheat.review_strikes.exists():
        assignment = services.review_next(competition=world.competition, user=cheat, rng=rng)
        if assignment.item.kind == "single":
            truth = Conversation.objects.get(pk=assignment.item.first_id).partner_kind
            services.review_record_single(
                assignment_id=assignment.pk,
                user=cheat,
                verdict="human" if truth == "bot" else "bot",
                confidence=5,
                reason="x",
            )
        else:
            services.review_record_pairwise(assignment_id=assignment.pk, user=cheat, chosen_side="left", reason="x")
    url = reverse("review-progress", kwargs={"slug": world.competition.slug})
    client.force_login(world.reviewers[1])
    assert client.get(url).status_code == 403
    client.force_login(organizer)
    html = client.get(url).content.decode()
    assert "reviewer0" in html and "expected bot, answered human" in html
