"""The three-party game API: start, poll, verdict, witness answer; outputs are blind."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from chat.models import Game, GameVerdict
from chat.services import games
from tests.factories import BotFactory, CompetitionFactory, EvaluatorFactory, UserFactory

pytestmark = pytest.mark.usefixtures("lobby_hold")


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_two_people_start_a_game_through_the_api_and_finish_it():
    competition = CompetitionFactory(mode="three_party")
    BotFactory(competition=competition)
    first, second = (EvaluatorFactory(competition=competition, user=UserFactory()).user for _ in range(2))
    start = reverse("api-game-start", kwargs={"slug": competition.slug})
    waiting = api_for(first).post(start, {"language": "en"}, format="json").json()
    assert (waiting["status"], waiting["game_id"], waiting["panes"]) == ("waiting", None, [])
    matched = api_for(second).post(start, {"language": "en"}, format="json").json()
    game = Game.objects.get()
    assert (matched["status"], matched["game_id"]) == ("matched", str(game.public_id))
    polled = api_for(first).get(reverse("api-game-status", kwargs={"slug": competition.slug})).json()
    by_role = {matched["role"]: matched, polled["role"]: polled}
    left, right = game.panes()
    assert [(p["pane"], p["chat_id"]) for p in by_role["interrogator"]["panes"]] == [
        ("left", str(left.public_id)),
        ("right", str(right.public_id)),
    ]
    assert [(p["pane"], p["chat_id"]) for p in by_role["witness"]["panes"]] == [
        ("witness", str(game.human_conversation.public_id))
    ]
    assert "bot" not in str(by_role["interrogator"]).lower().replace("bot_", "")

    verdict_url = reverse("api-game-verdict", kwargs={"public_id": game.public_id})
    answer_url = reverse("api-game-witness-answer", kwargs={"public_id": game.public_id})
    interrogator, witness = api_for(game.interrogator), api_for(game.witness)
    body = {"picked_side": "left", "confidence": 55, "reason": "Typos."}
    assert interrogator.post(verdict_url, body, format="json").status_code == 409  # still running
    games.game_finish_early(game=game, user=game.interrogator)
    assert interrogator.post(verdict_url, {**body, "reason": ""}, format="json").status_code == 400
    assert witness.post(verdict_url, body, format="json").status_code == 409
    assert interrogator.post(verdict_url, body, format="json").status_code == 201
    assert GameVerdict.objects.get().confidence == 55
    assert witness.post(answer_url, {"effort": 6}, format="json").status_code == 400
    assert witness.post(answer_url, {"effort": 2}, format="json").status_code == 201
    assert witness.post(answer_url, {"effort": 3}, format="json").status_code == 409
    assert api_for(UserFactory()).post(verdict_url, body, format="json").status_code == 404
