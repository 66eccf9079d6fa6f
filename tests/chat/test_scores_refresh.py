from unittest import mock

import pytest

from chat.models import Conversation
from chat.services import conversation_end, evaluator_reinstate, evaluator_suspend
from tests.factories import ConversationFactory, EvaluatorFactory


@pytest.fixture
def scheduled():
    with mock.patch("leaderboard.services.recompute_schedule") as schedule:
        yield schedule


@pytest.mark.django_db
def test_suspending_and_reinstating_an_evaluator_refresh_the_scores(
    scheduled, competition, django_capture_on_commit_callbacks
):
    evaluator = EvaluatorFactory(competition=competition)
    with django_capture_on_commit_callbacks(execute=True):
        evaluator_suspend(evaluator=evaluator, reason="spam")
    with django_capture_on_commit_callbacks(execute=True):
        evaluator_reinstate(evaluator=evaluator)
    assert scheduled.call_args_list == [mock.call(competition_id=competition.id)] * 2


@pytest.mark.django_db
def test_a_bot_failed_chat_refreshes_the_scores_but_an_ordinary_end_does_not(
    scheduled, competition, django_capture_on_commit_callbacks
):
    failed, ended = ConversationFactory.create_batch(2, competition=competition)
    with django_capture_on_commit_callbacks(execute=True):
        conversation_end(conversation=failed, reason=Conversation.EndReason.BOT_FAILED)
        conversation_end(conversation=ended, reason=Conversation.EndReason.TIME)
    assert scheduled.call_args_list == [mock.call(competition_id=competition.id)]
