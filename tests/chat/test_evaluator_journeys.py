"""The evaluator's dead ends of issue 13: clear end states, the pairing race, judging short chats, onboarding
feedback, the transcript beside the judgment and the evaluator's own page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from chat import services
from chat.models import Conversation, Judgment, MatchRequest
from tests.factories import (
    BotFactory,
    CompetitionFactory,
    ConversationFactory,
    EvaluatorFactory,
    JudgmentFactory,
    MessageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def evaluate_url(competition) -> str:
    return reverse("evaluate-competition", kwargs={"slug": competition.slug})


def used_up(competition, user, bot, times: int) -> None:
    for _ in range(times):
        chat = ConversationFactory(
            competition=competition, bot=bot, evaluator_a=user, status=Conversation.Status.ENDED, last_seq=6
        )
        JudgmentFactory(conversation=chat)


def test_an_evaluator_who_met_every_bot_as_often_as_allowed_is_told_so_instead_of_waiting(client):
    competition = CompetitionFactory(control_chat_share=0.2, max_chats_per_evaluator_per_bot=1)
    user = EvaluatorFactory(competition=competition).user
    first, second = BotFactory(competition=competition), BotFactory(competition=competition)
    used_up(competition, user, first, 1)
    used_up(competition, user, second, 1)
    client.force_login(user)
    response = client.post(evaluate_url(competition), {"action": "start", "language": "en"})
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert 'id="evaluate-unavailable" data-reason="chats_used_up"' in page
    assert 'id="start-form"' not in page and 'id="waiting"' not in page
    assert not MatchRequest.objects.filter(user=user, status=MatchRequest.Status.WAITING).exists()


def test_with_every_bot_failing_the_page_says_no_partner_is_available(client):
    competition = CompetitionFactory(control_chat_share=0.2)
    BotFactory(competition=competition, status="failing")
    client.force_login(EvaluatorFactory(competition=competition).user)
    page = client.get(evaluate_url(competition)).content.decode()
    assert 'data-reason="no_partner"' in page
    assert 'id="start-form"' not in page


def test_a_wait_that_no_bot_can_end_is_ended_by_the_next_poll(settings):
    settings.CHAT_PRESENCE_TIME_SCALE = 1.0  # a hold of its own (at most 5 s): it wants a human until then
    competition = CompetitionFactory(control_chat_share=1.0, human_partner_wait_seconds=5)
    bot = BotFactory(competition=competition)
    user = EvaluatorFactory(competition=competition).user
    request = services.match_request_start(competition=competition, user=user, language="en")
    assert request.status == MatchRequest.Status.WAITING
    assert services.match_poll(competition=competition, user=user) == ("waiting", None)
    bot.status = "failing"
    bot.save()
    MatchRequest.objects.filter(pk=request.pk).update(created_at=timezone.now() - timedelta(seconds=6))
    assert services.match_poll(competition=competition, user=user) == ("unavailable", None)
    request.refresh_from_db()
    assert request.status == MatchRequest.Status.CANCELLED


def test_the_api_poll_says_why_the_wait_ended(api):
    competition = CompetitionFactory(control_chat_share=1.0, human_partner_wait_seconds=0)
    user = EvaluatorFactory(competition=competition).user
    MatchRequest.objects.create(competition=competition, user=user, language="en", wants_human=True)
    api.force_authenticate(user)
    answer = api.get(f"/api/v1/evaluate/{competition.slug}/match/status/").json()
    assert answer["status"] == "unavailable"
    assert answer["reason"] == "no_partner"


def test_paired_between_the_start_and_the_page_load_the_page_opens_the_chat(client):
    competition = CompetitionFactory()
    user = EvaluatorFactory(competition=competition).user
    chat = ConversationFactory(competition=competition, evaluator_a=user)
    client.force_login(user)
    response = client.get(evaluate_url(competition))
    assert response.status_code == 302
    assert response.url == reverse("chat-room", kwargs={"public_id": chat.public_id})


def test_a_chat_too_short_to_count_asks_for_no_judgment(client):
    competition = CompetitionFactory(control_chat_share=0.0, min_turns_to_count=4)
    BotFactory(competition=competition)
    user = EvaluatorFactory(competition=competition).user
    chat = ConversationFactory(competition=competition, evaluator_a=user, status=Conversation.Status.ENDED, last_seq=1)
    client.force_login(user)
    judge = client.get(reverse("chat-judge", kwargs={"public_id": chat.public_id})).content.decode()
    assert 'id="judgment-too-short"' in judge and 'id="judgment-form"' not in judge
    response = client.post(evaluate_url(competition), {"action": "start", "language": "en"})
    assert response.url.startswith("/chat/")
    assert Conversation.objects.filter(evaluator_a=user, status=Conversation.Status.ACTIVE).exists()


def test_a_chat_long_enough_still_needs_its_judgment(client):
    competition = CompetitionFactory(control_chat_share=0.0, min_turns_to_count=4)
    BotFactory(competition=competition)
    user = EvaluatorFactory(competition=competition).user
    chat = ConversationFactory(competition=competition, evaluator_a=user, status=Conversation.Status.ENDED, last_seq=4)
    client.force_login(user)
    response = client.post(evaluate_url(competition), {"action": "start", "language": "en"})
    assert response.url == reverse("chat-judge", kwargs={"public_id": chat.public_id})


def test_the_judge_page_shows_the_transcript_as_this_side_saw_it(client):
    chat = ConversationFactory(status=Conversation.Status.ENDED, last_seq=2, competition__min_turns_to_count=2)
    MessageFactory(conversation=chat, seq=1, side="a", text="hello there", delivered_text="hello there")
    MessageFactory(conversation=chat, seq=2, side="b", text="raw insult", delivered_text="*** masked")
    client.force_login(chat.evaluator_a)
    page = client.get(reverse("chat-judge", kwargs={"public_id": chat.public_id})).content.decode()
    assert 'id="judge-transcript"' in page
    assert "hello there" in page and "*** masked" in page and "raw insult" not in page
    assert page.index('id="judge-transcript"') < page.index('id="judgment-form"')


def test_onboarding_marks_the_question_answered_wrongly(client):
    competition = CompetitionFactory()
    user = UserFactory()
    client.force_login(user)
    client.post(evaluate_url(competition), {"action": "consent"})
    questions = competition.onboarding_questions
    wrong = 1 - questions[1]["answer"]
    response = client.post(
        evaluate_url(competition), {"action": "onboarding", "q0": questions[0]["answer"], "q1": wrong}
    )
    page = response.content.decode()
    assert response.status_code == 200
    first = page[page.index('id="question-0"') : page.index('id="question-1"')]
    second = page[page.index('id="question-1"') :]
    assert "errorlist" not in first
    assert "errorlist" in second.split("</fieldset>")[0]


def test_the_evaluators_own_page_lists_chats_judgments_and_how_often_they_were_right(client):
    competition = CompetitionFactory(reveal_partner_after_judgment=True)
    user = UserFactory()
    right = ConversationFactory(competition=competition, evaluator_a=user, status="ended", last_seq=6, alias_b="Maple")
    JudgmentFactory(conversation=right, verdict=Judgment.Verdict.BOT)
    wrong = ConversationFactory(competition=competition, evaluator_a=user, status="ended", last_seq=6, alias_b="River")
    JudgmentFactory(conversation=wrong, verdict=Judgment.Verdict.HUMAN)
    ConversationFactory(competition=competition, evaluator_a=UserFactory(), alias_b="Stranger")
    client.force_login(user)
    page = client.get(reverse("evaluator-history", kwargs={"slug": competition.slug})).content.decode()
    assert "Maple" in page and "River" in page and "Stranger" not in page
    assert "You were right about 1 of 2 partners (50%)." in page
    assert right.bot.name not in page


def test_the_own_page_hides_partners_when_the_competition_does_not_reveal_them(client):
    competition = CompetitionFactory(reveal_partner_after_judgment=False)
    user = UserFactory()
    chat = ConversationFactory(competition=competition, evaluator_a=user, status="ended", last_seq=6)
    JudgmentFactory(conversation=chat, verdict=Judgment.Verdict.BOT)
    client.force_login(user)
    page = client.get(reverse("evaluator-history", kwargs={"slug": competition.slug})).content.decode()
    assert "You were right" not in page
    assert "badge verified" not in page and "badge failing" not in page


def test_a_report_from_the_chat_page_answers_json_and_the_chat_goes_on(client):
    chat = ConversationFactory()
    client.force_login(chat.evaluator_a)
    url = reverse("chat-report", kwargs={"public_id": chat.public_id})
    answer = client.post(url, {"reason": "Rude."}, headers={"accept": "application/json"})
    assert answer.status_code == 200 and answer.json()["ok"] is True
    missing = client.post(url, {"reason": ""}, headers={"accept": "application/json"})
    assert missing.status_code == 400 and missing.json()["ok"] is False
    assert chat.reports.count() == 1
