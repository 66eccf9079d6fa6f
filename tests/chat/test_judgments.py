"""Judgment rules: complete, one per evaluator per chat, only after the chat, and the leaderboard is told."""

import logging

import pytest
from rest_framework.test import APIClient

from chat import services
from chat.models import Conversation, Judgment, PartnerKind
from chat.services import scores
from hulic.log_throttle import ThrottledLog
from tests.factories import ConversationFactory, UserFactory

pytestmark = pytest.mark.django_db


def ended(**fields):
    return ConversationFactory(status=Conversation.Status.ENDED, last_seq=6, **fields)


def judge(conversation, evaluator=None, **overrides):
    fields = {
        "verdict": "bot",
        "confidence": 4,
        "ratings": dict.fromkeys(conversation.competition.criteria_keys, 3),
        "reason": "Too quick and too even.",
    }
    fields.update(overrides)
    return services.judgment_record(
        conversation=conversation, evaluator=evaluator or conversation.evaluator_a, **fields
    )


def test_judgment_fills_the_denormalised_fields():
    chat = ended()
    judgment = judge(chat)
    assert (judgment.competition, judgment.bot, judgment.partner_kind) == (chat.competition, chat.bot, "bot")
    assert judgment.message_count == 6 and judgment.is_correct


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"verdict": "robot"}, "verdict"),
        ({"confidence": 0}, "confidence"),
        ({"confidence": 6}, "confidence"),
        ({"ratings": {"fluency": 3}}, "ratings"),
        ({"ratings": {"human_likeness": 9, "fluency": 3, "engagement": 3, "appropriateness": 3}}, "ratings"),
        ({"reason": "   "}, "reason"),
    ],
)
def test_every_field_is_required_and_checked(override, field):
    with pytest.raises(services.JudgmentInvalid) as error:
        judge(ended(), **override)
    assert field in error.value.errors
    assert not Judgment.objects.exists()


def test_one_judgment_per_evaluator_per_chat():
    chat = ended()
    judge(chat)
    with pytest.raises(services.JudgmentNotAllowed):
        judge(chat, verdict="human")
    assert Judgment.objects.get().verdict == "bot"


def test_active_chats_and_strangers_cannot_be_judged():
    with pytest.raises(services.JudgmentNotAllowed):
        judge(ConversationFactory())
    with pytest.raises(services.JudgmentNotAllowed):
        judge(ended(), evaluator=UserFactory())


def test_both_sides_of_a_control_chat_judge_a_human():
    chat = ended(partner_kind=PartnerKind.HUMAN, bot=None, evaluator_b=UserFactory())
    first, second = judge(chat), judge(chat, evaluator=chat.evaluator_b, verdict="human")
    assert first.partner_kind == second.partner_kind == PartnerKind.HUMAN
    assert first.bot is None and second.is_correct


def test_saving_a_judgment_schedules_the_leaderboard_recompute_after_commit(
    django_capture_on_commit_callbacks, monkeypatch
):
    calls = []
    monkeypatch.setattr("leaderboard.services.recompute_schedule", lambda **kwargs: calls.append(kwargs))
    chat = ended()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        judge(chat)
    assert calls == []
    for callback in callbacks:
        callback()
    assert calls == [{"competition_id": chat.competition_id}]


@pytest.mark.django_db(transaction=True)  # committed as in production: the after-commit hook runs in the request
def test_a_judgment_saved_while_redis_is_down_is_answered_as_saved(monkeypatch, caplog):
    def redis_down(**kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr("leaderboard.services.recompute_schedule", redis_down)
    monkeypatch.setattr(scores, "quiet_log", ThrottledLog(logging.getLogger(scores.__name__)))
    client = APIClient()
    responses = []
    for chat in (ended(), ended()):
        client.force_authenticate(chat.evaluator_a)
        body = {
            "verdict": "bot",
            "confidence": 4,
            "ratings": dict.fromkeys(chat.competition.criteria_keys, 3),
            "reason": "Too quick.",
        }
        responses.append(client.post(f"/api/v1/chats/{chat.public_id}/judgment/", body, format="json"))

    assert [response.status_code for response in responses] == [201, 201]
    assert Judgment.objects.count() == 2
    assert sum("queueing a leaderboard recompute failed" in r.getMessage() for r in caplog.records) == 1


def test_reports_are_stored_for_organizers():
    chat = ConversationFactory()
    report = services.report_create(conversation=chat, reporter=chat.evaluator_a, reason="Rude partner")
    assert report.reason == "Rude partner"
    with pytest.raises(services.JudgmentNotAllowed):
        services.report_create(conversation=chat, reporter=UserFactory(), reason="x")
