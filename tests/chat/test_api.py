"""The evaluators' API: start and poll a match, judge; blind outputs and typed errors."""

import pytest
from rest_framework.test import APIClient

from chat.models import Conversation, Judgment
from tests.factories import BotFactory, CompetitionFactory, ConversationFactory, EvaluatorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_start_pairs_with_a_bot_without_naming_it(api):
    competition = CompetitionFactory(control_chat_share=0.0)
    bot = BotFactory(competition=competition, name="Api-Hidden-Bot")
    user = EvaluatorFactory(competition=competition).user
    api.force_authenticate(user)
    response = api.post(f"/api/v1/evaluate/{competition.slug}/match/", {"language": "en"}, format="json")
    chat = Conversation.objects.get(evaluator_a=user)
    assert response.status_code == 200
    assert response.json() == {
        "status": "matched",
        "chat_id": str(chat.public_id),
        "ws_path": f"/ws/chat/{chat.public_id}/",
        "reason": None,
    }
    assert bot.name not in response.content.decode()
    status = api.get(f"/api/v1/evaluate/{competition.slug}/match/status/").json()
    assert status["status"] == "matched"


def test_start_refuses_with_a_typed_error_until_the_last_chat_is_judged(api):
    chat = ConversationFactory(status=Conversation.Status.ENDED, last_seq=4)
    EvaluatorFactory(competition=chat.competition, user=chat.evaluator_a)
    api.force_authenticate(chat.evaluator_a)
    response = api.post(f"/api/v1/evaluate/{chat.competition.slug}/match/", {"language": "en"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "judgment_pending"
    assert response.json()["chat_id"] == str(chat.public_id)


def test_judgment_is_saved_once_and_reveals_the_partner(api):
    chat = ConversationFactory(
        status=Conversation.Status.ENDED, last_seq=4, competition__reveal_partner_after_judgment=True
    )
    api.force_authenticate(chat.evaluator_a)
    body = {
        "verdict": "human",
        "confidence": 2,
        "ratings": dict.fromkeys(chat.competition.criteria_keys, 5),
        "reason": "Felt natural.",
    }
    url = f"/api/v1/chats/{chat.public_id}/judgment/"
    first = api.post(url, body, format="json")
    again = api.post(url, body, format="json")
    missing = api.post(url, {**body, "ratings": {}}, format="json")
    assert first.status_code == 201 and first.json()["partner_kind"] == "bot"
    assert again.status_code == 409 and again.json()["code"] == "judgment_not_allowed"
    assert missing.status_code in (400, 409)
    assert Judgment.objects.count() == 1
