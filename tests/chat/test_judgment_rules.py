"""Judgments and reports: exactly what an evaluator is told when one is refused, and each limit at its edge."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services
from chat.models import Report
from tests.factories import ConversationFactory, UserFactory

pytestmark = pytest.mark.django_db

VALID = {"verdict": "bot", "confidence": 3, "ratings": {"fluency": 3}, "reason": "why"}


def validate(**changes):
    return services.judgment_validate(criteria_keys=["fluency"], **(VALID | changes))


def test_a_complete_judgment_has_no_errors():
    assert validate() == {}


def test_every_missing_field_is_named_with_its_message():
    assert validate(verdict="maybe", confidence=None, ratings={}, reason="  ") == {
        "verdict": "Choose human or bot.",
        "confidence": "Give a confidence from 1 to 5.",
        "ratings": "Rate every criterion.",
        "reason": "Say briefly why.",
    }


def test_ratings_out_of_range_and_a_reason_too_long_have_their_own_messages():
    assert validate(ratings={"fluency": 6}, reason="r" * 2001) == {
        "ratings": "Ratings are from 1 to 5.",
        "reason": "At most 2000 characters.",
    }


def test_ratings_must_cover_exactly_the_criteria():
    assert "ratings" in validate(ratings={"fluency": 3, "extra": 3})
    assert "ratings" in validate(ratings=[("fluency", 3)])


def ended_chat(**fields):
    return ConversationFactory(status="ended", ended_at=timezone.now(), **fields)


def record(chat, evaluator, **changes):
    fields = {
        "verdict": "human",
        "confidence": 4,
        "ratings": dict.fromkeys(chat.competition.criteria_keys, 4),
        "reason": "felt real",
    } | changes
    return services.judgment_record(conversation=chat, evaluator=evaluator, **fields)


def test_refusals_tell_the_evaluator_exactly_why():
    running = ConversationFactory()
    with pytest.raises(services.JudgmentNotAllowed) as refused:
        record(running, running.evaluator_a)
    assert str(refused.value) == "The chat has not ended yet."
    chat = ended_chat()
    with pytest.raises(services.JudgmentNotAllowed) as refused:
        record(chat, UserFactory())
    assert str(refused.value) == "This is not your chat."
    record(chat, chat.evaluator_a)
    with pytest.raises(services.JudgmentNotAllowed) as refused:
        record(chat, chat.evaluator_a)
    assert str(refused.value) == "You have already judged this chat."


def test_an_invalid_judgment_is_refused_with_its_field_errors_and_not_saved():
    chat = ended_chat()
    with pytest.raises(services.JudgmentInvalid) as invalid:
        record(chat, chat.evaluator_a, confidence=0)
    assert invalid.value.errors == {"confidence": "Give a confidence from 1 to 5."}
    assert not chat.judgments.exists()


def test_both_sides_of_a_control_chat_judge_a_human():
    chat = ended_chat(partner_kind="human", bot=None, evaluator_b=UserFactory())
    for evaluator in (chat.evaluator_a, chat.evaluator_b):
        judgment = record(chat, evaluator)
        assert (judgment.partner_kind, judgment.bot_id) == ("human", None)


def test_the_stored_ratings_are_the_criteria_only_and_the_reason_is_stripped():
    chat = ended_chat()
    judgment = record(chat, chat.evaluator_a, reason="  felt real \n")
    assert judgment.reason == "felt real"
    assert judgment.ratings == dict.fromkeys(chat.competition.criteria_keys, 4)
    assert (judgment.competition_id, judgment.bot_id, judgment.evaluator) == (
        chat.competition_id,
        chat.bot_id,
        chat.evaluator_a,
    )


def test_reports_refuse_strangers_and_blank_reasons_and_cut_long_ones():
    chat = ConversationFactory()
    with pytest.raises(services.JudgmentNotAllowed) as refused:
        services.report_create(conversation=chat, reporter=UserFactory(), reason="spam")
    assert str(refused.value) == "This is not your chat."
    with pytest.raises(services.JudgmentInvalid) as invalid:
        services.report_create(conversation=chat, reporter=chat.evaluator_a, reason="   ")
    assert invalid.value.errors == {"reason": "Say what happened."}
    report = services.report_create(conversation=chat, reporter=chat.evaluator_a, reason=" " + "r" * 2500)
    assert report.reason == "r" * 2000
    assert Report.objects.count() == 1


def test_the_sweep_counts_every_chat_it_ends():
    past = timezone.now() - timedelta(seconds=1)
    ConversationFactory(deadline_at=past)
    ConversationFactory(deadline_at=past)
    ConversationFactory(deadline_at=past, status="ended")
    assert services.conversations_end_expired() == 2


def test_an_exclusion_keeps_the_whole_judgment_with_its_reason_and_refreshes_the_scores(
    monkeypatch, django_capture_on_commit_callbacks
):
    from chat.models import Judgment, JudgmentExclusion

    refreshed = []
    monkeypatch.setattr(
        "leaderboard.services.recompute_schedule", lambda *, competition_id: refreshed.append(competition_id)
    )
    chat = ended_chat(last_seq=4)
    judgment = record(chat, chat.evaluator_a, verdict="bot", confidence=2, reason=" odd ")
    excluder = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        exclusion = services.judgment_exclude(judgment=judgment, reason="  Copied answers.  ", excluded_by=excluder)
    assert refreshed == [chat.competition_id]
    stored = JudgmentExclusion.objects.get(pk=exclusion.pk)
    assert (stored.competition_id, stored.conversation_id, stored.evaluator_id, stored.excluded_by) == (
        chat.competition_id,
        chat.pk,
        chat.evaluator_a_id,
        excluder,
    )
    assert stored.reason == "Copied answers."
    assert stored.judgment == {
        "id": judgment.pk,
        "bot_id": chat.bot_id,
        "partner_kind": "bot",
        "verdict": "bot",
        "confidence": 2,
        "ratings": dict.fromkeys(chat.competition.criteria_keys, 4),
        "reason": "odd",
        "message_count": 4,
        "created_at": judgment.created_at.isoformat(),
    }
    assert not Judgment.objects.filter(pk=judgment.pk).exists()
    with pytest.raises(services.JudgmentNotAllowed) as refused:
        services.judgment_exclude(judgment=judgment, reason="Again.", excluded_by=excluder)
    assert str(refused.value) == "This judgment is gone already."
    with pytest.raises(services.JudgmentNotAllowed) as refused:
        record(chat, chat.evaluator_a)
    assert str(refused.value) == "The organizers excluded your judgment of this chat."


def test_an_exclusion_without_a_reason_names_the_field():
    chat = ended_chat()
    judgment = record(chat, chat.evaluator_a)
    with pytest.raises(services.JudgmentInvalid) as refused:
        services.judgment_exclude(judgment=judgment, reason="   ", excluded_by=None)
    assert refused.value.errors == {"reason": "Say why the judgment is excluded."}


def test_an_exclusion_bars_only_that_evaluator_from_that_chat():
    control = ended_chat(partner_kind="human", bot=None, evaluator_b=UserFactory())
    elsewhere = ended_chat(evaluator_a=control.evaluator_a)
    services.judgment_exclude(judgment=record(control, control.evaluator_a), reason="Spam.", excluded_by=None)
    assert record(control, control.evaluator_b).partner_kind == "human"
    assert record(elsewhere, control.evaluator_a).conversation == elsewhere
