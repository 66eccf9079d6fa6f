"""Matchmaking: who is paired with whom, and that pairing is race-free across connections."""

import contextlib
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from chat import selectors, services
from chat.models import Conversation, Evaluator, MatchRequest, PartnerKind
from competitions.models import Bot, Competition
from tests.factories import (
    BotFactory,
    CompetitionFactory,
    ConversationFactory,
    EvaluatorFactory,
    JudgmentFactory,
    TeamMembershipFactory,
    UserFactory,
)


def ready_evaluator(competition, user=None):
    return EvaluatorFactory(competition=competition, user=user or UserFactory()).user


def start(competition, user, language="en"):
    return services.match_request_start(competition=competition, user=user, language=language)


@pytest.fixture
def bot_only(db):
    return CompetitionFactory(control_chat_share=0.0)


@pytest.mark.django_db
def test_pairs_the_evaluator_with_a_live_bot(bot_only):
    live = BotFactory(competition=bot_only)
    BotFactory(competition=bot_only, status=Bot.Status.FAILING)
    user = ready_evaluator(bot_only)
    request = start(bot_only, user)
    assert request.status == MatchRequest.Status.MATCHED
    chat = request.conversation
    assert (chat.partner_kind, chat.bot, chat.evaluator_a, chat.fell_back_to_bot) == ("bot", live, user, False)
    assert chat.alias_b and chat.first_speaker in "ab"
    assert chat.deadline_at - chat.started_at == timedelta(seconds=bot_only.chat_time_limit_seconds)


@pytest.mark.django_db
def test_the_bot_of_the_previous_chat_comes_last_but_is_never_refused(bot_only):
    bot_only.max_chats_per_evaluator_per_bot = 5
    bot_only.save()
    first = BotFactory(competition=bot_only)
    user = ready_evaluator(bot_only)
    ConversationFactory(competition=bot_only, bot=first, evaluator_a=user, status=Conversation.Status.ENDED)
    # Its only bot: offered again, as it would be after a control chat (docs/blinding.md).
    assert services.match_unavailable_reason(competition=bot_only, user=user) == ""
    second = BotFactory(competition=bot_only)
    JudgmentFactory.create_batch(3, bot=second)  # needs judgments less than the first, yet comes first
    assert list(selectors.bots_available_for(competition=bot_only, user=user)) == [second, first]


@pytest.mark.django_db
def test_never_pairs_a_team_member_with_their_own_bot(bot_only):
    membership = TeamMembershipFactory()
    BotFactory(competition=bot_only, team=membership.team)
    user = ready_evaluator(bot_only, membership.user)
    with pytest.raises(services.NoPartnerAvailable) as refused:
        start(bot_only, user)
    assert refused.value.code == services.NO_PARTNER
    assert not MatchRequest.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_never_the_same_bot_twice_in_a_row_and_at_most_the_limit_per_bot(bot_only):
    bot_only.max_chats_per_evaluator_per_bot = 1
    bot_only.save()
    first_bot, second_bot = BotFactory(competition=bot_only), BotFactory(competition=bot_only)
    user = ready_evaluator(bot_only)
    seen = []
    for _ in range(2):
        chat = start(bot_only, user).conversation
        seen.append(chat.bot)
        services.conversation_end(conversation=chat, reason=Conversation.EndReason.TIME)
        JudgmentFactory(conversation=chat)
    assert set(seen) == {first_bot, second_bot}
    with pytest.raises(services.NoPartnerAvailable) as refused:
        start(bot_only, user)
    assert refused.value.code == services.CHATS_USED_UP


@pytest.mark.django_db
def test_the_bot_with_fewest_judgments_is_chosen(bot_only):
    busy, needy = BotFactory(competition=bot_only), BotFactory(competition=bot_only)
    for _ in range(3):
        JudgmentFactory(conversation=ConversationFactory(competition=bot_only, bot=busy, status="ended"))
    assert start(bot_only, ready_evaluator(bot_only)).conversation.bot == needy


@pytest.mark.django_db
def test_paused_matchmaking_and_unknown_language_are_refused(bot_only):
    BotFactory(competition=bot_only)
    user = ready_evaluator(bot_only)
    with pytest.raises(services.MatchmakingClosed):
        start(bot_only, user, language="fr")
    bot_only.matchmaking_paused = True
    bot_only.save()
    with pytest.raises(services.MatchmakingClosed):
        start(bot_only, user)


@pytest.mark.django_db
def test_consent_and_onboarding_come_before_the_first_chat(bot_only):
    user = UserFactory()
    evaluator = services.evaluator_join(competition=bot_only, user=user)
    with pytest.raises(services.EvaluatorNotReady):
        start(bot_only, user)
    services.evaluator_consent(evaluator=evaluator)
    assert not services.evaluator_onboarding_submit(evaluator=evaluator, answers=[1, 1])
    assert services.evaluator_onboarding_submit(evaluator=evaluator, answers=[0, 1])
    evaluator.refresh_from_db()
    assert evaluator.is_ready and evaluator.onboarding_failures == 1


@pytest.mark.django_db
def test_invite_only_pools_need_an_invitation_and_suspension_blocks(bot_only):
    bot_only.evaluator_pool = Competition.EvaluatorPool.INVITE
    bot_only.save()
    with pytest.raises(services.NotInvited):
        services.evaluator_join(competition=bot_only, user=UserFactory())
    invited = Evaluator.objects.create(competition=bot_only, user=UserFactory(), status=Evaluator.Status.INVITED)
    assert services.evaluator_join(competition=bot_only, user=invited.user) == invited
    services.evaluator_suspend(evaluator=invited, reason="abuse")
    with pytest.raises(services.EvaluatorSuspended):
        services.evaluator_join(competition=bot_only, user=invited.user)
    services.evaluator_reinstate(evaluator=invited)
    assert services.evaluator_join(competition=bot_only, user=invited.user).status == Evaluator.Status.ACTIVE


@pytest.mark.django_db
def test_suspending_ends_running_chats_and_cancels_waiting(bot_only):
    BotFactory(competition=bot_only)
    user = ready_evaluator(bot_only)
    chat = start(bot_only, user).conversation
    services.evaluator_suspend(evaluator=Evaluator.objects.get(user=user), reason="abuse")
    chat.refresh_from_db()
    assert (chat.status, chat.end_reason) == ("ended", "moderation")


@pytest.mark.django_db
def test_two_waiting_humans_are_paired_with_each_other():
    competition = CompetitionFactory(control_chat_share=1.0)
    first, second = ready_evaluator(competition), ready_evaluator(competition)
    assert start(competition, first).status == MatchRequest.Status.WAITING
    request = start(competition, second)
    chat = request.conversation
    assert (chat.partner_kind, chat.evaluator_a, chat.evaluator_b) == (PartnerKind.HUMAN, first, second)
    assert MatchRequest.objects.get(user=first).conversation == chat
    assert chat.alias_a != chat.alias_b


@pytest.mark.django_db
def test_no_human_within_the_hold_falls_back_to_a_bot(settings):
    settings.CHAT_PRESENCE_TIME_SCALE = 1.0  # the default hold: at most human_partner_wait_seconds
    competition = CompetitionFactory(control_chat_share=1.0, human_partner_wait_seconds=20)
    BotFactory(competition=competition)
    user = ready_evaluator(competition)
    request = start(competition, user)
    assert request.status == MatchRequest.Status.WAITING
    MatchRequest.objects.filter(pk=request.pk).update(created_at=timezone.now() - timedelta(seconds=21))
    request = services.match_attempt(match_request_id=request.pk)
    assert request.conversation.partner_kind == PartnerKind.BOT
    assert request.conversation.fell_back_to_bot is True


@pytest.mark.django_db
def test_cannot_start_while_in_a_chat_or_before_judging_the_last(bot_only):
    BotFactory(competition=bot_only)
    BotFactory(competition=bot_only)
    user = ready_evaluator(bot_only)
    chat = start(bot_only, user).conversation
    with pytest.raises(services.AlreadyInChat):
        start(bot_only, user)
    Conversation.objects.filter(pk=chat.pk).update(last_seq=bot_only.min_turns_to_count)
    services.conversation_end(conversation=chat, reason=Conversation.EndReason.TIME)
    with pytest.raises(services.JudgmentPending):
        start(bot_only, user)
    JudgmentFactory(conversation=chat)
    assert start(bot_only, user).status == MatchRequest.Status.MATCHED


@pytest.mark.django_db
def test_an_expired_chat_is_ended_when_the_evaluator_asks_for_another(bot_only):
    BotFactory(competition=bot_only)
    user = ready_evaluator(bot_only)
    chat = start(bot_only, user).conversation
    Conversation.objects.filter(pk=chat.pk).update(
        deadline_at=timezone.now() - timedelta(seconds=1), last_seq=bot_only.min_turns_to_count
    )
    with pytest.raises(services.JudgmentPending):
        start(bot_only, user)
    chat.refresh_from_db()
    assert chat.end_reason == Conversation.EndReason.TIME


@pytest.mark.django_db
def test_conversation_end_is_idempotent():
    chat = ConversationFactory()
    assert services.conversation_end(conversation=chat, reason=Conversation.EndReason.LEFT, by_side="a")
    assert not services.conversation_end(conversation=chat, reason=Conversation.EndReason.TIME)
    chat.refresh_from_db()
    assert (chat.status, chat.end_reason, chat.ended_by) == ("ended", "left", "a")
    assert services.conversations_end_expired() == 0


@pytest.mark.django_db
def test_the_sweep_ends_chats_past_their_deadline_only():
    running = ConversationFactory()
    abandoned = ConversationFactory(deadline_at=timezone.now() - timedelta(seconds=1))
    assert services.conversations_end_expired() == 1
    running.refresh_from_db()
    abandoned.refresh_from_db()
    assert (running.status, abandoned.status, abandoned.end_reason) == ("active", "ended", "time")


def run_in_threads(count, target):
    """Run ``target(i)`` in ``count`` threads started together, each with its own database connection."""
    barrier = threading.Barrier(count)
    errors = []

    def run(index):
        try:
            barrier.wait()
            target(index)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def assert_nobody_in_two_chats(users):
    for user in users:
        assert Conversation.objects.active().for_user(user).count() <= 1, user
    assert not Conversation.objects.filter(evaluator_a=F("evaluator_b")).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_human_pairing_never_double_books_or_self_pairs():
    if connection.vendor == "sqlite":
        pytest.skip("row locks need Postgres")
    competition = CompetitionFactory(control_chat_share=1.0, human_partner_wait_seconds=600)
    users = [ready_evaluator(competition) for _ in range(10)]

    def evaluator_session(index):
        request = start(competition, users[index])
        for _ in range(5):
            request = services.match_attempt(match_request_id=request.pk)

    assert run_in_threads(len(users), evaluator_session) == []
    for request in MatchRequest.objects.filter(status=MatchRequest.Status.WAITING):
        services.match_attempt(match_request_id=request.pk)

    assert_nobody_in_two_chats(users)
    chats = Conversation.objects.filter(competition=competition)
    assert chats.count() == 5
    paired = [c.evaluator_a_id for c in chats] + [c.evaluator_b_id for c in chats]
    assert sorted(paired) == sorted(u.pk for u in users)


@pytest.mark.django_db(transaction=True)
def test_concurrent_polls_of_one_request_create_one_chat():
    if connection.vendor == "sqlite":
        pytest.skip("row locks need Postgres")
    competition = CompetitionFactory(control_chat_share=1.0, human_partner_wait_seconds=0)
    BotFactory(competition=competition)
    BotFactory(competition=competition)
    user = ready_evaluator(competition)
    request = MatchRequest.objects.create(competition=competition, user=user, language="en", wants_human=True)
    MatchRequest.objects.filter(pk=request.pk).update(created_at=timezone.now() - timedelta(seconds=5))

    def poll(_index):
        services.match_attempt(match_request_id=request.pk)

    def start_again(_index):
        with contextlib.suppress(services.AlreadyInChat):
            start(competition, user)

    assert run_in_threads(8, lambda i: poll(i) if i % 2 else start_again(i)) == []
    assert Conversation.objects.for_user(user).count() == 1
