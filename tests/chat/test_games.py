"""Three-party games: matchmaking (race-free, roles rotate), randomised panes, the shared clock, the verdict."""

import itertools
import random
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from chat import selectors, services
from chat.models import Conversation, Game, GameRequest, GameVerdict, MatchRequest, PartnerKind
from chat.presence import MIN_RECORDED_WAITS
from chat.services import games
from chat.services.matchmaking import match_hold_draw
from competitions.models import Bot, Competition
from tests.chat.test_matchmaking import ready_evaluator, run_in_threads
from tests.factories import BotFactory, CompetitionFactory, ConversationFactory, TeamMembershipFactory, UserFactory


def start(competition, user, rng=None):
    return games.game_request_start(competition=competition, user=user, language="en", rng=rng)


@pytest.fixture
def three_party(db, settings):
    settings.CHAT_PRESENCE_TIME_SCALE = 1.0  # real lobby holds: alone, a person waits before falling back
    return CompetitionFactory(mode="three_party", chat_time_limit_seconds=300)


def record_human_pairings(competition, *, wait_seconds: float, count: int = MIN_RECORDED_WAITS) -> None:
    """Two-party chats between people that each took ``wait_seconds`` from request to match."""
    now = timezone.now()
    for _ in range(count):
        chat = ConversationFactory(
            competition=competition, partner_kind=PartnerKind.HUMAN, bot=None, evaluator_b=UserFactory(),
            status=Conversation.Status.ENDED,
        )  # fmt: skip
        MatchRequest.objects.create(
            competition=competition, user=chat.evaluator_a, language="en", status=MatchRequest.Status.MATCHED,
            conversation=chat, created_at=now - timedelta(seconds=wait_seconds), matched_at=now,
        )  # fmt: skip


def play(competition, first, second, rng=None):
    assert start(competition, first, rng).status == GameRequest.Status.WAITING
    request = start(competition, second, rng)
    assert request.status == GameRequest.Status.MATCHED
    return request.game


@pytest.mark.django_db
def test_two_waiting_people_and_a_bot_make_a_game_of_two_conversations_on_one_clock(three_party):
    bot = BotFactory(competition=three_party)
    first, second = ready_evaluator(three_party), ready_evaluator(three_party)
    game = play(three_party, first, second)
    human, with_bot = game.human_conversation, game.bot_conversation
    assert {game.interrogator, game.witness} == {first, second}
    assert (human.partner_kind, human.evaluator_a, human.evaluator_b) == (
        PartnerKind.HUMAN,
        game.interrogator,
        game.witness,
    )
    assert (with_bot.partner_kind, with_bot.evaluator_a, with_bot.bot) == (PartnerKind.BOT, game.interrogator, bot)
    assert human.deadline_at == with_bot.deadline_at == game.deadline_at
    assert game.deadline_at - game.started_at == timedelta(seconds=300)
    assert human.first_speaker == with_bot.first_speaker == "a"
    assert len({human.alias_a, human.alias_b, with_bot.alias_b}) == 3
    # Game conversations are judged by the game's verdict, never as two-party chats.
    assert selectors.unjudged_conversation_for(user=game.interrogator) is None


@pytest.mark.django_db
def test_no_game_without_a_bot_the_interrogator_may_meet(three_party):
    membership = TeamMembershipFactory()
    BotFactory(competition=three_party, team=membership.team)
    BotFactory(competition=three_party, status=Bot.Status.FAILING)
    owner, other = ready_evaluator(three_party, membership.user), ready_evaluator(three_party)
    start(three_party, owner)
    # Whichever of the two interrogates, the only live bot belongs to one of them: interrogator or witness.
    assert start(three_party, other).status == GameRequest.Status.WAITING
    assert not Game.objects.exists()


def finish(game, picked_side="left"):
    games.game_finish_early(game=game, user=game.interrogator)
    games.game_verdict_record(
        game=game, interrogator=game.interrogator, picked_side=picked_side, confidence=50, reason="r"
    )
    games.game_witness_answer(game=game, witness=game.witness, effort=3)


@pytest.mark.django_db
def test_per_bot_cap_applies_to_the_interrogator_and_roles_swap_to_fit_it(three_party):
    three_party.max_chats_per_evaluator_per_bot = 1
    three_party.save()
    BotFactory(competition=three_party)
    first, second, third = (ready_evaluator(three_party) for _ in range(3))
    game = play(three_party, first, second)
    finish(game)
    capped = game.interrogator
    # The capped interrogator is owed the witness role anyway; the rotation would not matter, the cap does.
    second_game = play(three_party, capped, third)
    assert (second_game.interrogator, second_game.witness) == (third, capped)
    finish(second_game)
    # Both have now met the only bot as interrogators: no game.
    start(three_party, capped)
    assert start(three_party, third).status == GameRequest.Status.WAITING


@pytest.mark.django_db
def test_roles_rotate_with_the_organizer_share(three_party):
    BotFactory(competition=three_party)
    BotFactory(competition=three_party)  # the two-party rule "never the same bot twice in a row" applies
    three_party.max_chats_per_evaluator_per_bot = 100
    three_party.save()
    ann, bob = ready_evaluator(three_party), ready_evaluator(three_party)
    interrogators = []
    for _ in range(6):
        game = play(three_party, ann, bob, rng=random.Random(1))
        interrogators.append(game.interrogator)
        games.game_finish_early(game=game, user=game.interrogator)
        games.game_verdict_record(
            game=game, interrogator=game.interrogator, picked_side="left", confidence=1, reason="r"
        )
        games.game_witness_answer(game=game, witness=game.witness, effort=4)
    assert interrogators.count(ann) == interrogators.count(bob) == 3
    assert all(a != b for a, b in itertools.pairwise(interrogators))


@pytest.mark.django_db
def test_left_and_right_are_randomised_per_game(three_party):
    BotFactory(competition=three_party)
    BotFactory(competition=three_party)
    three_party.max_chats_per_evaluator_per_bot = 1000
    three_party.save()
    rng = random.Random(7)
    people = [ready_evaluator(three_party) for _ in range(2)]
    sides = []
    for _ in range(60):
        game = play(three_party, *people, rng=rng)
        sides.append(game.human_on_left)
        left, right = game.panes()
        assert (left.partner_kind == "human") == game.human_on_left and left != right
        Conversation.objects.filter(pk__in=[left.pk, right.pk]).update(status="ended")
        GameVerdict.objects.create(
            game=game, competition=three_party, bot=game.bot, interrogator=game.interrogator,
            picked_side="left", bot_picked_as_human=False, confidence=1, reason="r",
        )  # fmt: skip
        Game.objects.filter(pk=game.pk).update(witness_answered_at=timezone.now(), witness_effort=3)
    assert 18 <= sum(sides) <= 42  # binomial(60, 0.5): outside this band with probability < 0.2%


@pytest.mark.django_db
def test_cannot_join_a_second_game_or_chat_while_playing(three_party):
    BotFactory(competition=three_party)
    first, second = ready_evaluator(three_party), ready_evaluator(three_party)
    game = play(three_party, first, second)
    for user in (first, second):
        with pytest.raises(services.AlreadyInChat):
            start(three_party, user)
        with pytest.raises(services.AlreadyInChat):
            services.match_request_start(competition=three_party, user=user, language="en")
    games.game_finish_early(game=game, user=game.interrogator)
    with pytest.raises(games.GameVerdictPending):
        start(three_party, game.interrogator)


@pytest.mark.django_db
def test_the_verdict_needs_an_ended_game_a_side_a_confidence_and_a_reason(three_party):
    BotFactory(competition=three_party)
    game = play(three_party, ready_evaluator(three_party), ready_evaluator(three_party))
    with pytest.raises(services.JudgmentNotAllowed):
        games.game_verdict_record(
            game=game, interrogator=game.interrogator, picked_side="left", confidence=5, reason="r"
        )
    with pytest.raises(services.JudgmentNotAllowed):
        games.game_finish_early(game=game, user=game.witness)
    games.game_finish_early(game=game, user=game.interrogator)
    with pytest.raises(services.JudgmentNotAllowed):
        games.game_verdict_record(game=game, interrogator=game.witness, picked_side="left", confidence=5, reason="r")
    for bad in ({"picked_side": "middle"}, {"confidence": 101}, {"confidence": -1}, {"reason": "  "}):
        fields = {"picked_side": "left", "confidence": 50, "reason": "typed too fast", **bad}
        with pytest.raises(services.JudgmentInvalid) as error:
            games.game_verdict_record(game=game, interrogator=game.interrogator, **fields)
        assert set(error.value.errors) == {next(iter(bad))}
    bot_side = "right" if game.human_on_left else "left"
    verdict = games.game_verdict_record(
        game=game, interrogator=game.interrogator, picked_side=bot_side, confidence=80, reason="warm"
    )
    assert verdict.bot_picked_as_human and verdict.bot == game.bot and verdict.confidence == 80
    with pytest.raises(services.JudgmentNotAllowed):
        games.game_verdict_record(
            game=game, interrogator=game.interrogator, picked_side=bot_side, confidence=8, reason="x"
        )


@pytest.mark.django_db
def test_the_shared_clock_ends_both_conversations(three_party):
    BotFactory(competition=three_party)
    game = play(three_party, ready_evaluator(three_party), ready_evaluator(three_party))
    past = timezone.now() - timedelta(seconds=1)
    Conversation.objects.filter(pk__in=[game.human_conversation_id, game.bot_conversation_id]).update(deadline_at=past)
    game.refresh_from_db()
    assert games.game_end_if_expired(game=game)
    statuses = set(Conversation.objects.filter(game_as_human=game).values_list("end_reason", flat=True))
    statuses |= set(Conversation.objects.filter(game_as_bot=game).values_list("end_reason", flat=True))
    assert statuses == {"time"}
    with pytest.raises(services.JudgmentInvalid):
        games.game_witness_answer(game=game, witness=game.witness, effort=9)
    assert games.game_witness_answer(game=game, witness=game.witness, effort=2)
    assert not games.game_witness_answer(game=game, witness=game.witness, effort=5)
    game.refresh_from_db()
    assert game.witness_effort == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_interrogators_and_witnesses_each_land_in_at_most_one_game(settings):
    if connection.vendor == "sqlite":
        pytest.skip("row locks need Postgres")
    settings.CHAT_PRESENCE_TIME_SCALE = 1.0  # nobody falls back to a bot chat while the others are arriving
    competition = CompetitionFactory(mode="three_party", max_chats_per_evaluator_per_bot=50)
    for _ in range(3):
        BotFactory(competition=competition)
    users = [ready_evaluator(competition) for _ in range(12)]

    def session(index):
        try:
            request = start(competition, users[index])
        except services.AlreadyInChat:
            return
        for _ in range(5):
            request = games.game_attempt(game_request_id=request.pk)

    assert run_in_threads(len(users), session) == []
    for request in GameRequest.objects.filter(status=GameRequest.Status.WAITING):
        games.game_attempt(game_request_id=request.pk)

    all_games = list(
        Game.objects.filter(competition=competition).select_related("human_conversation", "bot_conversation")
    )
    assert len(all_games) == 6
    people = [g.interrogator_id for g in all_games] + [g.witness_id for g in all_games]
    assert sorted(people) == sorted(u.pk for u in users)
    for game in all_games:
        assert game.human_conversation.partner_kind == "human" and game.human_conversation.bot_id is None
        assert game.bot_conversation.partner_kind == "bot" and game.bot_conversation.evaluator_b_id is None
        assert game.interrogator_id != game.witness_id
    for user in users:
        assert Game.objects.filter(Q(interrogator=user) | Q(witness=user)).count() == 1
        assert Conversation.objects.active().for_user(user).count() in (1, 2)


def lobby_hold(competition, user, seed: int) -> float:
    """The hold a person's lobby request draws with this seed; the request is cancelled again."""
    request = start(competition, user, random.Random(seed))
    assert request.status == GameRequest.Status.WAITING
    games.game_request_cancel(game_request=request)
    return request.hold_seconds


def age(request, seconds: float) -> None:
    GameRequest.objects.filter(pk=request.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))


@pytest.mark.django_db
def test_in_a_games_only_competition_the_lobby_keeps_waiting_past_the_hold_instead_of_a_bot_chat(three_party):
    """Its two-party chats would all be with a bot (no control chats to hide among), and the person would know."""
    BotFactory(competition=three_party)
    record_human_pairings(three_party, wait_seconds=12)
    request = start(three_party, ready_evaluator(three_party))
    age(request, 13)
    assert games.game_attempt(game_request_id=request.pk).status == GameRequest.Status.WAITING
    assert not Conversation.objects.filter(evaluator_a=request.user).exists()


@pytest.mark.django_db
def test_alone_in_the_lobby_past_the_hold_falls_back_to_a_two_party_bot_chat(three_party, client):
    """In mode "both", where two-party chats include control chats, the lobby falls back at its drawn hold."""
    Competition.objects.filter(pk=three_party.pk).update(mode="both")
    bot = BotFactory(competition=three_party)
    record_human_pairings(three_party, wait_seconds=12)
    user = ready_evaluator(three_party)
    request = start(three_party, user)
    assert (request.status, round(request.hold_seconds)) == (GameRequest.Status.WAITING, 12)
    age(request, 11)
    assert games.game_attempt(game_request_id=request.pk).status == GameRequest.Status.WAITING
    age(request, 13)
    client.force_login(user)
    answer = client.get(reverse("game-status", kwargs={"slug": three_party.slug})).json()
    chat = Conversation.objects.get(evaluator_a=user, partner_kind=PartnerKind.BOT)
    assert (chat.bot, chat.status) == (bot, "active")
    assert not hasattr(chat, "game_as_bot")
    assert answer == {"status": "matched", "chat_url": reverse("chat-room", kwargs={"public_id": chat.public_id})}
    assert GameRequest.objects.get(pk=request.pk).status == GameRequest.Status.FELL_BACK


@pytest.mark.django_db
def test_the_lobby_hold_is_drawn_from_human_pairing_waits_not_the_fixed_wait(three_party):
    """The lobby's fallback comes at a human-like wait (as a two-party chat with a person would start), not at the
    competition's fixed human_partner_wait_seconds, which would tell the person that the chat is with a bot."""
    BotFactory(competition=three_party)
    assert three_party.human_partner_wait_seconds == 20
    record_human_pairings(three_party, wait_seconds=3, count=MIN_RECORDED_WAITS // 2)
    record_human_pairings(three_party, wait_seconds=7, count=MIN_RECORDED_WAITS // 2)
    user = ready_evaluator(three_party)
    assert {round(lobby_hold(three_party, user, seed)) for seed in range(12)} == {3, 7}
    Competition.objects.filter(pk=three_party.pk).update(mode="both")
    request = start(three_party, user, random.Random(0))
    age(request, request.hold_seconds + 0.5)
    assert games.game_attempt(game_request_id=request.pk).status == GameRequest.Status.FELL_BACK


@pytest.mark.django_db
def test_without_recorded_pairings_the_lobby_holds_the_two_party_default(three_party, settings):
    BotFactory(competition=three_party)
    user = ready_evaluator(three_party)
    holds = [lobby_hold(three_party, user, seed) for seed in range(30)]
    two_party = [match_hold_draw(competition=three_party, rng=random.Random(seed)) for seed in range(30)]
    assert holds == two_party
    assert len(set(holds)) > 20 and max(holds) <= three_party.human_partner_wait_seconds
    settings.CHAT_PRESENCE_TIME_SCALE = 0.0
    Competition.objects.filter(pk=three_party.pk).update(mode="both")
    alone = start(three_party, ready_evaluator(three_party))
    assert (alone.hold_seconds, alone.status) == (0.0, GameRequest.Status.FELL_BACK)
