"""The evaluator pool after each state change (join, consent, onboarding, suspension), and moderation language."""

import pytest
from django.test import override_settings

from chat import services
from chat.models import Conversation, Evaluator
from chat.services import evaluators
from competitions.models import Competition
from tests.factories import CompetitionFactory, ConversationFactory, EvaluatorFactory, UserFactory

pytestmark = pytest.mark.django_db

QUESTIONS = [{"text": "Who may you chat with?", "answer": 0}, {"text": "May you share contacts?", "answer": 1}]


def test_joining_a_second_competition_creates_a_second_evaluator():
    first, second = CompetitionFactory(), CompetitionFactory()
    user = UserFactory()
    mine = services.evaluator_join(competition=first, user=user)
    EvaluatorFactory(competition=second)  # someone else is already in the second pool
    other = services.evaluator_join(competition=second, user=user)
    assert other != mine
    assert (other.competition, other.user) == (second, user)
    assert services.evaluator_join(competition=first, user=user) == mine


def test_an_invite_only_pool_refuses_with_its_message_and_a_suspension_with_its_reason():
    pool = CompetitionFactory(evaluator_pool=Competition.EvaluatorPool.INVITE)
    with pytest.raises(services.NotInvited) as refused:
        services.evaluator_join(competition=pool, user=UserFactory())
    assert str(refused.value) == "This competition's evaluators are invited by the organizers."
    evaluator = EvaluatorFactory(competition=pool)
    services.evaluator_suspend(evaluator=evaluator, reason="rude to partners")
    for attempt in (
        lambda: services.evaluator_join(competition=pool, user=evaluator.user),
        lambda: services.evaluator_consent(evaluator=Evaluator.objects.get(pk=evaluator.pk)),
    ):
        with pytest.raises(services.EvaluatorSuspended) as suspended:
            attempt()
        assert str(suspended.value) == "rude to partners"
    assert Evaluator.objects.get(pk=evaluator.pk).status == Evaluator.Status.SUSPENDED


def test_consent_is_stored_once_and_activates_an_invitation():
    evaluator = Evaluator.objects.create(competition=CompetitionFactory(), user=UserFactory(), status="invited")
    services.evaluator_consent(evaluator=evaluator)
    stored = Evaluator.objects.get(pk=evaluator.pk)
    assert stored.status == Evaluator.Status.ACTIVE and stored.consented_at is not None
    services.evaluator_consent(evaluator=stored)
    assert Evaluator.objects.get(pk=evaluator.pk).consented_at == stored.consented_at


@pytest.mark.parametrize(
    ("answers", "correct"),
    [([0, 1], True), ([0], False), ([0, 1, 1], False), ([1, 1], False), ([0, None], False), ([], False)],
)
def test_onboarding_needs_one_right_answer_per_question(answers, correct):
    assert evaluators.onboarding_answers_correct(questions=QUESTIONS, answers=answers) is correct


def test_onboarding_failures_are_counted_and_a_pass_is_kept():
    evaluator = EvaluatorFactory(competition=CompetitionFactory(onboarding_questions=QUESTIONS))
    evaluator.onboarding_passed_at = None
    evaluator.save()
    for _ in range(2):
        assert not services.evaluator_onboarding_submit(evaluator=evaluator, answers=[1, 1])
    assert services.evaluator_onboarding_submit(evaluator=evaluator, answers=[0, 1])
    stored = Evaluator.objects.get(pk=evaluator.pk)
    assert (stored.onboarding_failures, stored.onboarding_passed_at is not None) == (2, True)
    assert not services.evaluator_onboarding_submit(evaluator=stored, answers=[0])
    again = Evaluator.objects.get(pk=evaluator.pk)
    assert again.onboarding_passed_at == stored.onboarding_passed_at  # a later failure does not undo the pass
    assert again.onboarding_failures == 3


def test_suspension_ends_only_this_competitions_chats_and_records_the_side():
    user = UserFactory()
    here = ConversationFactory(partner_kind="human", bot=None, evaluator_a=UserFactory(), evaluator_b=user)
    elsewhere = ConversationFactory(evaluator_a=user)
    services.evaluator_suspend(evaluator=EvaluatorFactory(competition=here.competition, user=user), reason="x")
    here.refresh_from_db()
    elsewhere.refresh_from_db()
    assert (here.end_reason, here.ended_by) == (Conversation.EndReason.MODERATION, "b")
    assert elsewhere.is_active


def test_leaving_records_who_left():
    chat = ConversationFactory(partner_kind="human", bot=None, evaluator_b=UserFactory())
    assert services.conversation_leave(conversation=chat, side="b")
    chat.refresh_from_db()
    assert (chat.end_reason, chat.ended_by) == (Conversation.EndReason.LEFT, "b")


@override_settings(CHAT_MODERATION_FILTER="tests.chat.test_moderation.ShoutingFilter")
def test_messages_and_bot_replies_are_moderated_in_the_chats_language():
    chat = ConversationFactory(language="ko")
    posted = services.message_post(conversation=chat, side="a", author=chat.evaluator_a, client_msg_id="", text="HI")
    assert (posted.message.flagged, posted.message.moderation_labels) == (True, ["shouting-ko"])
    turn = services.bot_turn_claim(conversation_id=chat.pk)
    reply = services.bot_reply_post(turn=turn, text="HELLO", latency_ms=1.0).message
    assert (reply.flagged, reply.moderation_labels, reply.delivered_text) == (True, ["shouting-ko"], "*****")


@override_settings(CHAT_MODERATION_FILTER="tests.chat.test_moderation.ShoutingFilter")
def test_the_bot_sees_what_the_evaluator_delivered_and_its_own_words():
    chat = ConversationFactory()
    first = services.message_post(conversation=chat, side="a", author=chat.evaluator_a, client_msg_id="1", text="HEY")
    assert (first.message.author, first.message.text, first.message.delivered_text) == (chat.evaluator_a, "HEY", "***")
    reply = services.bot_reply_post(turn=services.bot_turn_claim(conversation_id=chat.pk), text="hi", latency_ms=1.0)
    assert (reply.message.author, reply.message.client_msg_id) == (None, "")
    services.message_post(conversation=chat, side="a", author=chat.evaluator_a, client_msg_id="2", text="again")
    turn = services.bot_turn_claim(conversation_id=chat.pk)
    assert [(m["role"], m["text"]) for m in turn.history] == [("user", "***"), ("bot", "hi"), ("user", "again")]
    assert all(set(m) == {"role", "text", "timestamp"} for m in turn.history)
    assert turn.history[0]["timestamp"] == first.message.created_at.isoformat()
    assert turn.signing_secret == chat.bot.signing_secret


def test_suspension_cancels_only_this_competitions_waiting_request_and_keeps_200_characters_of_reason():
    from chat.models import MatchRequest

    evaluator, waiting_elsewhere = EvaluatorFactory(), EvaluatorFactory()
    other = EvaluatorFactory(competition=CompetitionFactory(), user=waiting_elsewhere.user)

    def waiting(evaluator):
        return MatchRequest.objects.create(competition=evaluator.competition, user=evaluator.user, language="en")

    mine, someone_else = waiting(evaluator), waiting(EvaluatorFactory(competition=evaluator.competition))
    elsewhere = waiting(other)
    services.evaluator_suspend(evaluator=evaluator, reason="r" * 201)
    services.evaluator_suspend(evaluator=waiting_elsewhere, reason="r" * 200)
    statuses = [MatchRequest.objects.get(pk=r.pk).status for r in (mine, someone_else, elsewhere)]
    assert statuses == [MatchRequest.Status.CANCELLED, MatchRequest.Status.WAITING, MatchRequest.Status.WAITING]
    for suspended in (evaluator, waiting_elsewhere):
        stored = Evaluator.objects.get(pk=suspended.pk)
        assert (stored.status, stored.suspended_reason) == (Evaluator.Status.SUSPENDED, "r" * 200)


def test_suspension_and_reinstatement_refresh_the_competitions_scores_and_reinstatement_clears_the_reason(
    monkeypatch, django_capture_on_commit_callbacks
):
    refreshed = []
    monkeypatch.setattr(
        "leaderboard.services.recompute_schedule", lambda *, competition_id: refreshed.append(competition_id)
    )
    evaluator = EvaluatorFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.evaluator_suspend(evaluator=evaluator, reason="spam")
    assert refreshed == [evaluator.competition_id]
    with django_capture_on_commit_callbacks(execute=True):
        services.evaluator_reinstate(evaluator=Evaluator.objects.get(pk=evaluator.pk))
    assert refreshed == [evaluator.competition_id] * 2
    stored = Evaluator.objects.get(pk=evaluator.pk)
    assert (stored.status, stored.suspended_reason) == (Evaluator.Status.ACTIVE, "")
    assert services.evaluator_join(competition=evaluator.competition, user=evaluator.user) == stored


def test_an_evaluator_suspended_in_a_chat_as_side_a_is_recorded_as_side_a():
    chat = ConversationFactory()
    services.evaluator_suspend(
        evaluator=EvaluatorFactory(competition=chat.competition, user=chat.evaluator_a), reason="x"
    )
    chat.refresh_from_db()
    assert (chat.status, chat.end_reason, chat.ended_by) == ("ended", Conversation.EndReason.MODERATION, "a")


@pytest.mark.parametrize(
    ("answers", "wrong"), [([0, 1], []), ([1, 1], [0]), ([0], [1]), ([], [0, 1]), ([1, 0, 5], [0, 1])]
)
def test_onboarding_names_each_question_answered_wrongly_or_not_at_all(answers, wrong):
    assert evaluators.onboarding_wrong_answers(questions=QUESTIONS, answers=answers) == wrong
