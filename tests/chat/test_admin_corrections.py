"""Issue 13, organizers: a chat's facts and its judgments are read-only in the admin; corrections are explicit,
logged actions (exclude a judgment with a reason)."""

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.urls import reverse

from chat import selectors, services
from chat.models import Conversation, Judgment, JudgmentExclusion
from tests.factories import ConversationFactory, JudgmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organizer_client(client):
    client.force_login(UserFactory(username="olga", is_staff=True, is_superuser=True))
    return client


def test_a_chats_facts_cannot_be_edited_or_added_in_the_admin(organizer_client):
    chat = ConversationFactory(status=Conversation.Status.ENDED)
    url = reverse("admin:chat_conversation_change", args=[chat.pk])
    page = organizer_client.get(url).content.decode()
    assert 'name="partner_kind"' not in page and 'name="status"' not in page
    organizer_client.post(url, {"partner_kind": "human", "status": "active"})
    chat.refresh_from_db()
    assert (chat.partner_kind, chat.status) == ("bot", "ended")
    assert organizer_client.get(reverse("admin:chat_conversation_add")).status_code == 403
    assert organizer_client.get(reverse("admin:chat_judgment_add")).status_code == 403


def test_judgments_cannot_be_deleted_silently(organizer_client):
    judgment = JudgmentFactory()
    changelist = organizer_client.get(reverse("admin:chat_judgment_changelist")).content.decode()
    assert "delete_selected" not in changelist and "exclude_judgments" in changelist
    assert organizer_client.get(reverse("admin:chat_judgment_delete", args=[judgment.pk])).status_code == 403


def test_excluding_a_judgment_asks_for_a_reason_logs_it_and_takes_it_out(organizer_client):
    judgment = JudgmentFactory(conversation=ConversationFactory(status=Conversation.Status.ENDED, last_seq=6))
    changelist = reverse("admin:chat_judgment_changelist")
    ask = organizer_client.post(changelist, {"action": "exclude_judgments", "_selected_action": [judgment.pk]})
    assert ask.status_code == 200 and 'name="reason"' in ask.content.decode()
    assert Judgment.objects.filter(pk=judgment.pk).exists()

    organizer_client.post(
        changelist,
        {"action": "exclude_judgments", "_selected_action": [judgment.pk], "apply": "1", "reason": "Copied answers."},
    )
    assert not Judgment.objects.filter(pk=judgment.pk).exists()
    exclusion = JudgmentExclusion.objects.get()
    assert exclusion.reason == "Copied answers." and exclusion.excluded_by.username == "olga"
    assert exclusion.judgment["verdict"] == judgment.verdict and exclusion.judgment["id"] == judgment.pk
    entry = LogEntry.objects.get()
    assert entry.action_flag == DELETION and "Copied answers." in entry.change_message


def test_an_excluded_judgment_is_not_asked_for_again_nor_accepted(client):
    chat = ConversationFactory(status=Conversation.Status.ENDED, last_seq=6)
    judgment = JudgmentFactory(conversation=chat)
    services.judgment_exclude(judgment=judgment, reason="Spam.", excluded_by=None)
    assert selectors.unjudged_conversation_for(user=chat.evaluator_a) is None
    with pytest.raises(services.JudgmentNotAllowed):
        services.judgment_record(
            conversation=chat, evaluator=chat.evaluator_a, verdict="bot", confidence=3,
            ratings=dict.fromkeys(chat.competition.criteria_keys, 3), reason="Again.",
        )  # fmt: skip
    client.force_login(chat.evaluator_a)
    page = client.get(reverse("chat-judge", kwargs={"public_id": chat.public_id})).content.decode()
    assert 'id="judgment-excluded"' in page and 'id="judgment-form"' not in page


def test_excluding_needs_a_reason():
    judgment = JudgmentFactory()
    with pytest.raises(services.JudgmentInvalid):
        services.judgment_exclude(judgment=judgment, reason="  ", excluded_by=None)
    assert Judgment.objects.filter(pk=judgment.pk).exists()
