"""The leaderboard's Three-party tab, API and CSV on fixed games."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from chat.models import Conversation, Game, GameVerdict, PartnerKind
from competitions.models import Competition
from leaderboard.three_party_stats import win_rate
from tests.factories import BotFactory, CompetitionFactory, UserFactory


def decided_game(competition, bot, interrogator, witness, *, bot_won: bool, effort=None):
    common = {"competition": competition, "language": "en", "evaluator_a": interrogator, "alias_a": "Maple"}
    deadline = timezone.now()
    human = Conversation.objects.create(
        partner_kind=PartnerKind.HUMAN, evaluator_b=witness, alias_b="Reed", first_speaker="a",
        status="ended", deadline_at=deadline, **common,
    )  # fmt: skip
    with_bot = Conversation.objects.create(
        partner_kind=PartnerKind.BOT, bot=bot, alias_b="Sage", first_speaker="a", status="ended",
        deadline_at=deadline, **common,
    )  # fmt: skip
    game = Game.objects.create(
        competition=competition, language="en", interrogator=interrogator, witness=witness, bot=bot,
        human_conversation=human, bot_conversation=with_bot, human_on_left=True, deadline_at=deadline,
        witness_effort=effort,
    )  # fmt: skip
    GameVerdict.objects.create(
        game=game, competition=competition, bot=bot, interrogator=interrogator,
        picked_side="right" if bot_won else "left", bot_picked_as_human=bot_won, confidence=60, reason="r",
    )  # fmt: skip


@pytest.fixture
def board(db):
    competition = CompetitionFactory(mode="both", phase=Competition.Phase.CLOSED, equivalence_margin=0.15)
    persona, eliza = (
        BotFactory(competition=competition, name="persona"),
        BotFactory(competition=competition, name="eliza", is_baseline=True),
    )
    people = [UserFactory() for _ in range(6)]
    outcomes = {persona.pk: [], eliza.pk: []}
    for index in range(24):
        interrogator, witness = people[index % 6], people[(index + 1) % 6]
        for bot, won in ((persona, index % 4 != 0), (eliza, index % 4 == 0)):
            decided_game(competition, bot, interrogator, witness, bot_won=won)
            outcomes[bot.pk].append((interrogator.pk, won))
    decided_game(competition, eliza, people[0], people[1], bot_won=True, effort=1)  # low effort: not counted
    return competition, persona, eliza, outcomes


def test_api_rows_match_the_pure_scores_and_order(client, board):
    competition, persona, _eliza, outcomes = board
    data = client.get(reverse("api-leaderboard-three-party", kwargs={"slug": competition.slug})).json()
    rows = data["rows"]
    assert [row["bot"] for row in rows] == ["persona", "eliza"]
    expected = win_rate(outcomes[persona.pk], margin=0.15, seed=persona.pk)
    assert rows[0]["score"]["rate"] == 0.75 and rows[0]["score"]["low"] == expected.low
    assert rows[0]["score"]["p_value"] == pytest.approx(expected.p_value)
    assert (rows[1]["score"]["games"], rows[1]["low_effort_games"], rows[1]["is_baseline"]) == (24, 1, True)
    assert rows[1]["score"]["rate"] == 0.25


def test_page_and_csv(client, board):
    competition, *_ = board
    page = client.get(reverse("leaderboard-three-party", kwargs={"slug": competition.slug})).content.decode()
    table = page[page.index('id="three-party-table"') :]
    assert table.index("persona") < table.index("eliza") and "75.0%" in table
    chart = page[page.index('id="three-party-chart"') : page.index("</svg>")]
    assert chart.count('class="lb-point"') == 2 and "lb-baseline-band" in chart
    response = client.get(reverse("leaderboard-three-party-csv", kwargs={"slug": competition.slug}))
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["bot"], r["games"], r["wins"], r["low_effort_games"]) for r in table] == [
        ("persona", "24", "18", "0"),
        ("eliza", "24", "6", "1"),
    ]
    assert (
        'id="tab-three-party"' in client.get(reverse("leaderboard", kwargs={"slug": competition.slug})).content.decode()
    )


def test_hidden_while_evaluating_unless_public(client, board):
    competition, *_ = board
    competition.phase = Competition.Phase.EVALUATION
    competition.save()
    assert client.get(reverse("api-leaderboard-three-party", kwargs={"slug": competition.slug})).status_code == 403
    assert client.get(reverse("leaderboard-three-party-csv", kwargs={"slug": competition.slug})).status_code == 403
