"""Evaluator pages: the consent → onboarding → start → chat → judge flow, blinding and authorisation."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chat.models import Conversation, Evaluator, Judgment, MatchRequest, PartnerKind, Report
from tests.factories import BotFactory, CompetitionFactory, ConversationFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def competition_with_bot(db):
    competition = CompetitionFactory(control_chat_share=0.0, languages=["en", "ko"])
    BotFactory(
        competition=competition,
        name="Visible-Only-To-Organizers",
        team=TeamFactory(name="Secret Team"),
        endpoint_url="http://127.0.0.1:9/hidden-path",
    )
    return competition


def test_evaluate_lists_competitions_in_evaluation(client, competition_with_bot):
    CompetitionFactory(title="Still a draft", phase="draft")
    client.force_login(UserFactory())
    page = client.get(reverse("evaluate")).content.decode()
    assert competition_with_bot.title in page and "Still a draft" not in page


def test_consent_onboarding_and_start_lead_into_a_blind_chat(client, competition_with_bot):
    user = UserFactory()
    client.force_login(user)
    url = reverse("evaluate-competition", kwargs={"slug": competition_with_bot.slug})
    assert 'id="consent-form"' in client.get(url).content.decode()

    client.post(url, {"action": "consent"})
    assert 'id="onboarding-form"' in client.get(url).content.decode()
    client.post(url, {"action": "onboarding", "q0": "1", "q1": "1"})
    assert Evaluator.objects.get(user=user).onboarding_passed_at is None
    client.post(url, {"action": "onboarding", "q0": "0", "q1": "1"})
    assert 'id="start-form"' in client.get(url).content.decode()

    response = client.post(url, {"action": "start", "language": "ko"})
    chat = Conversation.objects.get(evaluator_a=user)
    assert response.url == reverse("chat-room", kwargs={"public_id": chat.public_id})
    assert chat.language == "ko"
    room = client.get(response.url).content.decode()
    for hook in ("chat-messages", "chat-input", "chat-send", "chat-timer", "chat-typing", "chat-leave"):
        assert f'id="{hook}"' in room
    for secret in ("Visible-Only-To-Organizers", "Secret Team", "hidden-path", str(chat.bot_conversation_id)):
        assert secret not in room
    assert chat.alias_b in room


def test_waiting_page_polls_match_status_which_pairs(client, settings):
    settings.CHAT_PRESENCE_TIME_SCALE = 1.0  # a hold of its own: until then it waits for a human
    competition = CompetitionFactory(control_chat_share=1.0, human_partner_wait_seconds=600)
    first, second = UserFactory(), UserFactory()
    for user in (first, second):
        Evaluator.objects.create(competition=competition, user=user, consented_at="2026-01-01T00:00Z",
                                 onboarding_passed_at="2026-01-01T00:00Z")  # fmt: skip
    url = reverse("evaluate-competition", kwargs={"slug": competition.slug})
    status_url = reverse("match-status", kwargs={"slug": competition.slug})
    client.force_login(first)
    client.post(url, {"action": "start", "language": "en"})
    assert 'id="waiting"' in client.get(url).content.decode()
    assert client.get(status_url).json() == {"status": "waiting", "chat_url": None}

    MatchRequest.objects.create(competition=competition, user=second, language="en", wants_human=True)
    answer = client.get(status_url).json()
    chat = Conversation.objects.get()
    assert answer == {"status": "matched", "chat_url": reverse("chat-room", kwargs={"public_id": chat.public_id})}
    assert chat.partner_kind == PartnerKind.HUMAN


def test_strangers_cannot_see_a_chat(client):
    chat = ConversationFactory()
    client.force_login(UserFactory())
    assert client.get(reverse("chat-room", kwargs={"public_id": chat.public_id})).status_code == 404
    assert client.get(reverse("chat-judge", kwargs={"public_id": chat.public_id})).status_code == 404


def judgment_post(chat):
    data = {"verdict": "human", "confidence": "3", "reason": "Typos and jokes."}
    data.update({f"rating_{key}": "4" for key in chat.competition.criteria_keys})
    return data


def test_judging_reveals_the_partner_and_is_final(client):
    chat = ConversationFactory(
        status=Conversation.Status.ENDED, last_seq=4, competition__reveal_partner_after_judgment=True
    )
    client.force_login(chat.evaluator_a)
    url = reverse("chat-judge", kwargs={"public_id": chat.public_id})
    form_page = client.get(url).content.decode()
    assert 'id="judgment-form"' in form_page and 'id="partner-reveal"' not in form_page

    incomplete = judgment_post(chat)
    del incomplete["reason"]
    assert 'id="judgment-form"' in client.post(url, incomplete).content.decode()
    assert not Judgment.objects.exists()

    client.post(url, judgment_post(chat))
    client.post(url, {**judgment_post(chat), "verdict": "bot"})
    judgment = Judgment.objects.get()
    assert (judgment.verdict, judgment.confidence, judgment.ratings["fluency"]) == ("human", 3, 4)
    page = client.get(url).content.decode()
    assert 'id="partner-reveal" data-partner-kind="bot"' in page
    assert chat.bot.name not in page


def test_reveal_is_off_by_default(client):
    chat = ConversationFactory(status=Conversation.Status.ENDED, last_seq=4)
    client.force_login(chat.evaluator_a)
    url = reverse("chat-judge", kwargs={"public_id": chat.public_id})
    client.post(url, judgment_post(chat))
    page = client.get(url).content.decode()
    assert 'id="judgment-saved"' in page and 'id="partner-reveal"' not in page


def test_evaluators_can_report_their_partner(client):
    chat = ConversationFactory()
    client.force_login(chat.evaluator_a)
    client.post(reverse("chat-report", kwargs={"public_id": chat.public_id}), {"reason": "Insults"})
    assert Report.objects.get().reason == "Insults"


def test_admin_lists_flagged_messages_and_reports(admin_client):
    chat = ConversationFactory()
    chat.messages.create(seq=1, side="a", text="badword", delivered_text="*******", flagged=True)
    chat.messages.create(seq=2, side="b", text="fine", delivered_text="fine")
    page = admin_client.get(reverse("admin:chat_message_changelist")).content.decode()
    assert "badword" in page and ">fine<" not in page
    assert admin_client.get(reverse("admin:chat_report_changelist")).status_code == 200


def test_an_expired_chat_page_ends_the_chat_and_asks_for_the_judgment(client):
    chat = ConversationFactory(deadline_at=timezone.now() - timedelta(seconds=1))
    client.force_login(chat.evaluator_a)
    response = client.get(reverse("chat-room", kwargs={"public_id": chat.public_id}))
    assert response.url == reverse("chat-judge", kwargs={"public_id": chat.public_id})
    chat.refresh_from_db()
    assert chat.end_reason == Conversation.EndReason.TIME
