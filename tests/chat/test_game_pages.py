"""Three-party pages: start by mode, the interrogator's two panes, the witness's one, the verdict forms."""

import random

import pytest
from django.urls import reverse

from chat.models import Conversation, Game, GameRequest, GameVerdict
from chat.services import games
from controlroom.selectors import control_room_snapshot
from tests.factories import BotFactory, CompetitionFactory, EvaluatorFactory, UserFactory

pytestmark = pytest.mark.usefixtures("lobby_hold")


@pytest.fixture
def game(db):
    competition = CompetitionFactory(mode="three_party")
    BotFactory(competition=competition)
    first, second = (EvaluatorFactory(competition=competition, user=UserFactory()).user for _ in range(2))
    games.game_request_start(competition=competition, user=first, language="en")
    return games.game_request_start(competition=competition, user=second, language="en").game


def test_mode_decides_what_start_joins(client, db):
    competition = CompetitionFactory(mode="three_party")
    user = EvaluatorFactory(competition=competition, user=UserFactory()).user
    client.force_login(user)
    url = reverse("evaluate-competition", kwargs={"slug": competition.slug})
    response = client.post(url, {"action": "start", "language": "en"})
    assert response.status_code == 302
    assert GameRequest.objects.filter(user=user, status="waiting").exists()
    page = client.get(url).content.decode()
    assert reverse("game-status", kwargs={"slug": competition.slug}) in page
    assert client.get(reverse("game-status", kwargs={"slug": competition.slug})).json() == {
        "status": "waiting",
        "chat_url": None,
    }
    client.post(url, {"action": "cancel"})
    assert not GameRequest.objects.filter(user=user, status="waiting").exists()


def test_both_mode_draws_with_the_share(db):
    competition = CompetitionFactory(mode="both", three_party_share=0.3)
    draws = [competition.draws_three_party(random.random()) for _ in range(2000)]
    assert 0.25 < sum(draws) / len(draws) < 0.35
    assert not CompetitionFactory(mode="two_party").draws_three_party(0.0)


def test_interrogator_sees_two_panes_in_the_games_left_right_order(client, game):
    client.force_login(game.interrogator)
    page = client.get(reverse("game-room", kwargs={"public_id": game.public_id})).content.decode()
    left, right = game.panes()
    assert page.index(f"/ws/chat/{left.public_id}/") < page.index(f"/ws/chat/{right.public_id}/")
    assert 'id="pane-left"' in page and 'id="pane-right"' in page
    assert "witness-instructions" not in page
    # No trace of which pane is the bot.
    assert "bot" not in page.split('class="game-panes"')[1].split("</div>")[0].lower()


def test_witness_sees_one_pane_with_instructions_and_not_the_bots(client, game):
    client.force_login(game.witness)
    page = client.get(reverse("game-room", kwargs={"public_id": game.public_id})).content.decode()
    assert f"/ws/chat/{game.human_conversation.public_id}/" in page
    assert str(game.bot_conversation.public_id) not in page
    assert "witness-instructions" in page
    assert client.get(reverse("chat-room", kwargs={"public_id": game.bot_conversation.public_id})).status_code == 404


def test_a_game_conversation_opened_as_a_chat_leads_to_the_game(client, game):
    client.force_login(game.interrogator)
    response = client.get(reverse("chat-room", kwargs={"public_id": game.bot_conversation.public_id}))
    assert response.url == reverse("game-room", kwargs={"public_id": game.public_id})
    response = client.get(reverse("chat-judge", kwargs={"public_id": game.human_conversation.public_id}))
    assert response.url == reverse("game-verdict", kwargs={"public_id": game.public_id})


def test_the_verdict_form_requires_a_reason_and_saves_once(client, game):
    client.force_login(game.interrogator)
    verdict_url = reverse("game-verdict", kwargs={"public_id": game.public_id})
    assert client.get(verdict_url).url == reverse("game-room", kwargs={"public_id": game.public_id})
    client.post(reverse("game-finish", kwargs={"public_id": game.public_id}))
    response = client.post(verdict_url, {"picked_side": "left", "confidence": "70", "reason": ""})
    assert response.status_code == 200 and not GameVerdict.objects.exists()
    response = client.post(verdict_url, {"picked_side": "left", "confidence": "170", "reason": "x"})
    assert not GameVerdict.objects.exists()
    client.post(verdict_url, {"picked_side": "left", "confidence": "70", "reason": "It asked about lunch."})
    verdict = GameVerdict.objects.get()
    assert (verdict.picked_side, verdict.confidence, verdict.bot_picked_as_human) == (
        "left",
        70,
        not game.human_on_left,
    )
    assert 'id="verdict-saved"' in client.get(verdict_url).content.decode()


def test_the_witness_answers_the_effort_question(client, game):
    games.game_finish_early(game=game, user=game.interrogator)
    client.force_login(game.witness)
    url = reverse("game-verdict", kwargs={"public_id": game.public_id})
    assert 'id="witness-form"' in client.get(url).content.decode()
    client.post(url, {"effort": "4"})
    assert Game.objects.get(pk=game.pk).witness_effort == 4
    assert client.post(reverse("game-finish", kwargs={"public_id": game.public_id})).status_code == 404


def test_admin_lists_live_games_and_the_control_room_counts_them(client, game):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    live = client.get(reverse("admin:chat_game_changelist") + "?live=yes").content.decode()
    assert str(game.public_id) in live and ">live<" in live
    assert str(game.public_id) not in client.get(reverse("admin:chat_game_changelist") + "?live=no").content.decode()
    assert control_room_snapshot(competition=game.competition)["games_live"] == 1
    games.game_finish_early(game=game, user=game.interrogator)
    assert control_room_snapshot(competition=game.competition)["games_live"] == 0


def test_an_owed_verdict_comes_before_any_next_start_even_a_two_party_one(client, game):
    games.game_finish_early(game=game, user=game.interrogator)
    competition = game.competition
    competition.mode = "two_party"
    competition.save()
    client.force_login(game.interrogator)
    url = reverse("evaluate-competition", kwargs={"slug": competition.slug})
    response = client.post(url, {"action": "start", "language": "en"})
    assert response.url == reverse("game-verdict", kwargs={"public_id": game.public_id})
    assert not Conversation.objects.filter(evaluator_a=game.interrogator, game_as_bot=None, game_as_human=None).exists()
