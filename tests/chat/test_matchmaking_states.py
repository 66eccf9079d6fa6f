"""Matchmaking after a state change (another phase, a pause, a cancel) and at its boundaries (wait, share)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import services
from chat.models import MatchRequest, PartnerKind
from competitions.models import Competition
from tests.factories import BotFactory, CompetitionFactory, EvaluatorFactory, JudgmentFactory, UserFactory

pytestmark = pytest.mark.django_db

NOT_EVALUATING = [Competition.Phase.DRAFT, Competition.Phase.REGISTRATION, Competition.Phase.CLOSED]


class FixedRandom:
    """``random()`` returns ``value``; ``sample``/``choice`` take the first items, so pairing is predictable."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value

    def sample(self, population, k):
        return list(population[:k])

    def choice(self, seq):
        return seq[0]

    def gauss(self, mu: float, sigma: float) -> float:
        """The match hold's draw (chat.presence): its median."""
        return mu


def ready_evaluator(competition):
    return EvaluatorFactory(competition=competition, user=UserFactory()).user


def start(competition, user, *, rng=None, language="en"):
    return services.match_request_start(competition=competition, user=user, language=language, rng=rng)


def with_holds(settings):
    """Real match holds: with the fixed random source a request is held min(5 s, human_partner_wait_seconds)."""
    settings.CHAT_PRESENCE_TIME_SCALE = 1.0


def set_fields(competition, **fields):
    Competition.objects.filter(pk=competition.pk).update(**fields)
    competition.refresh_from_db()


@pytest.mark.parametrize("phase", NOT_EVALUATING)
def test_no_queueing_outside_the_evaluation_phase(phase):
    competition = CompetitionFactory(phase=phase, control_chat_share=0.0)
    BotFactory(competition=competition)
    user = ready_evaluator(competition)
    with pytest.raises(services.MatchmakingClosed, match="not open"):
        start(competition, user)
    assert not MatchRequest.objects.filter(user=user).exists()


@pytest.mark.parametrize("phase", NOT_EVALUATING)
def test_a_request_queued_before_the_phase_ended_is_not_matched(phase, settings):
    with_holds(settings)
    competition = CompetitionFactory(control_chat_share=1.0, human_partner_wait_seconds=60)
    BotFactory(competition=competition)
    first, second = ready_evaluator(competition), ready_evaluator(competition)
    waiting = start(competition, first, rng=FixedRandom(0.0))
    assert waiting.status == MatchRequest.Status.WAITING  # no human partner yet, and held
    set_fields(competition, phase=phase)
    # A partner is there and the hold has run out (a bot too): only the phase keeps them apart.
    MatchRequest.objects.create(competition=competition, user=second, language="en", wants_human=True)
    MatchRequest.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(seconds=120))
    assert services.match_attempt(match_request_id=waiting.pk).status == MatchRequest.Status.WAITING
    assert services.match_poll(competition=competition, user=first) == ("waiting", None)
    assert not MatchRequest.objects.filter(status=MatchRequest.Status.MATCHED).exists()


def test_a_request_queued_before_a_pause_waits_until_matchmaking_resumes(settings):
    with_holds(settings)
    competition = CompetitionFactory(control_chat_share=1.0, human_partner_wait_seconds=60)
    BotFactory(competition=competition)
    first, second = ready_evaluator(competition), ready_evaluator(competition)
    waiting = start(competition, first, rng=FixedRandom(0.0))
    assert waiting.status == MatchRequest.Status.WAITING
    set_fields(competition, matchmaking_paused=True)
    # A partner arrives (queued directly: the pause refuses new requests) and the hold has run out.
    partner = MatchRequest.objects.create(competition=competition, user=second, language="en", wants_human=True)
    MatchRequest.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(seconds=120))
    for request in (waiting, partner):
        assert services.match_attempt(match_request_id=request.pk).status == MatchRequest.Status.WAITING
    assert services.match_poll(competition=competition, user=first) == ("waiting", None)
    with pytest.raises(services.MatchmakingClosed):
        start(competition, ready_evaluator(competition))

    set_fields(competition, matchmaking_paused=False)
    matched = services.match_attempt(match_request_id=waiting.pk)
    assert matched.status == MatchRequest.Status.MATCHED
    assert matched.conversation.partner_kind == PartnerKind.HUMAN
    assert {matched.conversation.evaluator_a, matched.conversation.evaluator_b} == {first, second}


def test_a_bot_request_queued_before_a_pause_is_not_given_a_bot(settings):
    with_holds(settings)
    competition = CompetitionFactory(control_chat_share=0.0, human_partner_wait_seconds=60)
    BotFactory(competition=competition)
    user = ready_evaluator(competition)
    waiting = start(competition, user, rng=FixedRandom(0.5))  # held: no bot yet
    assert (waiting.wants_human, waiting.status) == (False, MatchRequest.Status.WAITING)
    set_fields(competition, matchmaking_paused=True)
    MatchRequest.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(seconds=120))
    assert services.match_attempt(match_request_id=waiting.pk).status == MatchRequest.Status.WAITING
    set_fields(competition, matchmaking_paused=False)
    assert services.match_attempt(match_request_id=waiting.pk).conversation.partner_kind == PartnerKind.BOT


@pytest.mark.parametrize(("waited", "falls_back"), [(4.9, False), (5, True), (5.1, True)])
def test_the_wait_for_a_human_partner_ends_at_the_hold_below_and_above(waited, falls_back, settings):
    with_holds(settings)
    competition = CompetitionFactory(control_chat_share=1.0, human_partner_wait_seconds=60)
    BotFactory(competition=competition)
    waiting = start(competition, ready_evaluator(competition), rng=FixedRandom(0.0))
    # The drawn hold (its median, 5 s), well under the 60 s cap: the fallback comes at the hold, not at 60 s.
    assert (waiting.status, waiting.hold_seconds) == (MatchRequest.Status.WAITING, 5.0)
    # The check runs a few milliseconds after this update: 4.9 s stays below 5 s, 5 s is at least 5 s.
    MatchRequest.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(seconds=waited))
    request = services.match_attempt(match_request_id=waiting.pk)
    if falls_back:
        assert request.status == MatchRequest.Status.MATCHED
        assert (request.conversation.partner_kind, request.conversation.fell_back_to_bot) == (PartnerKind.BOT, True)
    else:
        assert request.status == MatchRequest.Status.WAITING


@pytest.mark.parametrize(("draw", "share", "wants_human"), [(0.29, 0.3, True), (0.3, 0.3, False), (0.31, 0.3, False)])
def test_the_control_chat_share_at_below_and_above(draw, share, wants_human):
    competition = CompetitionFactory(control_chat_share=share, human_partner_wait_seconds=60)
    BotFactory(competition=competition)  # without one no chat starts at all (NoPartnerAvailable)
    request = start(competition, ready_evaluator(competition), rng=FixedRandom(draw))
    assert request.wants_human is wants_human


def test_a_human_pairing_takes_the_longest_waiting_partner_of_the_same_language():
    competition = CompetitionFactory(control_chat_share=1.0, human_partner_wait_seconds=60, languages=["en", "de"])
    users = [ready_evaluator(competition) for _ in range(4)]
    german = start(competition, users[0], rng=FixedRandom(0.0), language="de")
    older = start(competition, users[1], rng=FixedRandom(0.0))
    newer = start(competition, users[2], rng=FixedRandom(0.0))
    assert {german.status, older.status} == {MatchRequest.Status.WAITING}
    assert newer.status == MatchRequest.Status.MATCHED and newer.conversation.evaluator_a == users[1]
    last = start(competition, users[3], rng=FixedRandom(0.0))
    assert last.status == MatchRequest.Status.WAITING  # the only other one waiting speaks German
    german.refresh_from_db()
    assert german.status == MatchRequest.Status.WAITING


def test_a_cancelled_request_is_never_matched_and_cancels_once(settings):
    with_holds(settings)
    competition = CompetitionFactory(control_chat_share=0.0)
    BotFactory(competition=competition)
    waiting = start(competition, ready_evaluator(competition), rng=FixedRandom(0.5))
    assert waiting.status == MatchRequest.Status.WAITING  # held
    assert services.match_request_cancel(match_request=waiting)
    assert not services.match_request_cancel(match_request=waiting)
    MatchRequest.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(seconds=120))
    assert services.match_attempt(match_request_id=waiting.pk).status == MatchRequest.Status.CANCELLED


def test_queueing_in_one_competition_cancels_a_wait_in_another(settings):
    with_holds(settings)
    elsewhere, here = CompetitionFactory(control_chat_share=0.0), CompetitionFactory(control_chat_share=0.0)
    BotFactory(competition=elsewhere)
    BotFactory(competition=here)
    user = EvaluatorFactory(competition=elsewhere).user
    EvaluatorFactory(competition=here, user=user)
    old = start(elsewhere, user)
    assert old.status == MatchRequest.Status.WAITING
    new = start(here, user)
    old.refresh_from_db()
    assert (old.status, new.status) == (MatchRequest.Status.CANCELLED, MatchRequest.Status.WAITING)
    assert start(here, user).pk == new.pk  # asking again returns the same waiting request


def test_a_matched_request_is_not_matched_again():
    competition = CompetitionFactory(control_chat_share=0.0)
    BotFactory(competition=competition)
    BotFactory(competition=competition)
    request = start(competition, ready_evaluator(competition))
    chat = request.conversation
    again = services.match_attempt(match_request_id=request.pk)
    assert (again.status, again.conversation) == (MatchRequest.Status.MATCHED, chat)
    assert MatchRequest.objects.get(pk=request.pk).conversation == chat


def test_the_new_chat_gets_distinct_aliases_the_time_limit_and_a_first_speaker():
    competition = CompetitionFactory(control_chat_share=0.0, chat_time_limit_seconds=123)
    BotFactory(competition=competition)
    request = start(competition, ready_evaluator(competition), rng=FixedRandom(0.0))
    chat = request.conversation
    assert (chat.alias_a, chat.alias_b, chat.first_speaker) == ("Maple", "River", "a")
    assert chat.deadline_at - chat.started_at == timedelta(seconds=123)
    assert request.matched_at == chat.started_at
    assert (chat.language, chat.competition) == ("en", competition)


def test_poll_with_nothing_waiting_is_idle_and_with_a_chat_elsewhere_too():
    competition = CompetitionFactory(control_chat_share=0.0)
    other = CompetitionFactory(control_chat_share=0.0)
    BotFactory(competition=other)
    user = EvaluatorFactory(competition=other).user
    EvaluatorFactory(competition=competition, user=user)
    assert services.match_poll(competition=competition, user=user) == ("idle", None)
    chat = start(other, user).conversation
    assert services.match_poll(competition=competition, user=user) == ("idle", None)
    assert services.match_poll(competition=other, user=user) == ("matched", chat)


def test_cancelling_one_request_leaves_the_others_waiting(settings):
    with_holds(settings)
    competition = CompetitionFactory(control_chat_share=0.0)
    BotFactory(competition=competition)
    mine = start(competition, ready_evaluator(competition))
    theirs = start(competition, ready_evaluator(competition))
    assert services.match_request_cancel(match_request=mine)
    theirs.refresh_from_db()
    assert theirs.status == MatchRequest.Status.WAITING


def test_someone_elses_chat_is_not_reported_as_mine():
    competition = CompetitionFactory(control_chat_share=0.0)
    BotFactory(competition=competition)
    busy, idle = ready_evaluator(competition), ready_evaluator(competition)
    chat = start(competition, busy).conversation
    assert services.match_poll(competition=competition, user=idle) == ("idle", None)
    assert services.match_poll(competition=competition, user=busy) == ("matched", chat)


def test_another_evaluators_chat_does_not_hold_me_back_and_my_own_is_named():
    competition = CompetitionFactory(control_chat_share=0.0, min_turns_to_count=0)  # even a silent chat is judged
    BotFactory(competition=competition)
    busy, free = ready_evaluator(competition), ready_evaluator(competition)
    busy_chat = start(competition, busy).conversation
    assert start(competition, free).status == MatchRequest.Status.MATCHED
    with pytest.raises(services.AlreadyInChat) as in_chat:
        start(competition, busy)
    assert in_chat.value.conversation == busy_chat
    services.conversation_leave(conversation=busy_chat, side="a")
    with pytest.raises(services.JudgmentPending) as pending:
        start(competition, busy)
    assert pending.value.conversation == busy_chat


def refusal(exception, competition, user, **kwargs) -> str:
    with pytest.raises(exception) as refused:
        start(competition, user, **kwargs)
    return str(refused.value)


def test_each_refusal_to_queue_says_why():
    competition = CompetitionFactory(control_chat_share=0.0, languages=["en"])
    elsewhere = EvaluatorFactory()  # ready, but in another competition's pool
    assert refusal(services.NotInvited, competition, elsewhere.user) == "Join the competition's evaluator pool first."
    EvaluatorFactory(competition=competition)  # someone else's evaluator row here does not count either
    assert refusal(services.NotInvited, competition, UserFactory()) == "Join the competition's evaluator pool first."
    unready = services.evaluator_join(competition=competition, user=UserFactory())
    expected = "Consent to the terms and pass the onboarding first."
    assert refusal(services.EvaluatorNotReady, competition, unready.user) == expected
    user = ready_evaluator(competition)
    assert refusal(services.MatchmakingClosed, competition, user, language="de") == "This language is not offered."
    set_fields(competition, matchmaking_paused=True)
    assert refusal(services.MatchmakingClosed, competition, user) == "Chats are not open right now."
    services.evaluator_suspend(evaluator=services.evaluator_join(competition=competition, user=user), reason="spam")
    assert refusal(services.EvaluatorSuspended, competition, user) == "spam"


def test_queueing_cancels_only_my_own_waiting_requests_elsewhere(settings):
    elsewhere, here = CompetitionFactory(control_chat_share=0.0), CompetitionFactory(control_chat_share=0.0)
    BotFactory(competition=elsewhere)
    BotFactory(competition=here)
    user = EvaluatorFactory(competition=elsewhere).user
    EvaluatorFactory(competition=here, user=user)
    matched = start(elsewhere, user)
    services.conversation_leave(conversation=matched.conversation, side="a")
    JudgmentFactory(conversation=matched.conversation)
    third = CompetitionFactory(control_chat_share=0.0)
    BotFactory(competition=third)
    with_holds(settings)
    someone = start(third, ready_evaluator(third), rng=FixedRandom(0.5))  # someone else, held elsewhere
    assert someone.status == MatchRequest.Status.WAITING
    start(here, user)
    matched.refresh_from_db()
    someone.refresh_from_db()
    assert matched.status == MatchRequest.Status.MATCHED
    assert someone.status == MatchRequest.Status.WAITING


def test_a_human_partner_is_the_longest_waiting_one_of_this_competition_who_wants_a_human(settings):
    with_holds(settings)
    competition = CompetitionFactory(control_chat_share=0.5, human_partner_wait_seconds=60)
    other = CompetitionFactory(control_chat_share=0.5, human_partner_wait_seconds=60)
    BotFactory(competition=competition)
    BotFactory(competition=other)
    now = timezone.now()
    bot_seeker = start(competition, ready_evaluator(competition), rng=FixedRandom(0.99))  # wants a bot; held
    start(other, ready_evaluator(other), rng=FixedRandom(0.0))  # wants a human, in another competition
    newer = start(competition, ready_evaluator(competition), rng=FixedRandom(0.0))
    older = MatchRequest.objects.create(
        competition=competition, user=ready_evaluator(competition), language="en", wants_human=True
    )
    MatchRequest.objects.filter(pk=older.pk).update(created_at=now - timedelta(seconds=30))
    assert (bot_seeker.wants_human, bot_seeker.status) == (False, MatchRequest.Status.WAITING)
    assert newer.status == MatchRequest.Status.WAITING
    last = start(competition, ready_evaluator(competition), rng=FixedRandom(0.0))
    assert last.status == MatchRequest.Status.MATCHED
    assert last.conversation.evaluator_a == older.user
