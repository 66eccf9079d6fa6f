"""A small competition with known judgments, for the recompute, page and API tests."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from chat.models import Conversation, Evaluator, Game, Judgment, PartnerKind
from competitions.models import BotCall
from tests.factories import (
    BotFactory,
    ConversationFactory,
    EvaluatorFactory,
    JudgmentFactory,
    UserFactory,
)


def judge_bot(*, bot, evaluator, verdict, ratings=None, message_count=8, status=Conversation.Status.ENDED, when=None):
    conversation = ConversationFactory(competition=bot.competition, bot=bot, evaluator_a=evaluator, status=status)
    extra = {"created_at": when} if when is not None else {}
    return JudgmentFactory(
        conversation=conversation,
        verdict=verdict,
        message_count=message_count,
        ratings=ratings or dict.fromkeys(bot.competition.criteria_keys, 3),
        **extra,
    )


def judge_human(*, competition, evaluator, partner, verdict, ratings=None):
    conversation = ConversationFactory(
        competition=competition,
        partner_kind=PartnerKind.HUMAN,
        bot=None,
        evaluator_a=evaluator,
        evaluator_b=partner,
        status=Conversation.Status.ENDED,
    )
    return JudgmentFactory(
        conversation=conversation,
        evaluator=evaluator,
        verdict=verdict,
        ratings=ratings or dict.fromkeys(competition.criteria_keys, 4),
    )


def game_with(scenario, *, bot, status):
    """A three-party game of two of the scenario's evaluators against `bot`, made as chat's games service makes it
    (two active conversations, then the game), then its conversations ended with `status` for the bot's."""
    interrogator, witness = scenario.evaluators[:2]
    common = {"competition": scenario.competition, "evaluator_a": interrogator}
    human_chat = ConversationFactory(partner_kind=PartnerKind.HUMAN, bot=None, evaluator_b=witness, **common)
    bot_chat = ConversationFactory(bot=bot, **common)
    game = Game.objects.create(
        competition=scenario.competition,
        language="en",
        interrogator=interrogator,
        witness=witness,
        bot=bot,
        human_conversation=human_chat,
        bot_conversation=bot_chat,
        human_on_left=True,
        deadline_at=timezone.now(),
    )
    Conversation.objects.filter(pk=human_chat.pk).update(status=Conversation.Status.ENDED, ended_at=timezone.now())
    Conversation.objects.filter(pk=bot_chat.pk).update(status=status, ended_at=timezone.now())
    return game


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factories set passwords; the default hasher would make up most of these tests' run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Scenario:
    competition: object
    alice: object
    bob: object
    eliza: object
    evaluators: list
    suspended: object
    not_onboarded: object
    alice_ratings: list = field(default_factory=list)
    day_one: datetime | None = None


@pytest.fixture
def scenario(competition, bot):
    """alice: 18 of 20 judged human; bob: 2 of 20; eliza (baseline): 5 of 10; controls: 4 of 5 judged human.

    Plus exclusions: one short chat, one judgment by a suspended and one by a not-onboarded evaluator (alice),
    one bot-failed chat with a judgment and one without (bob).
    """
    HUMAN, BOT = Judgment.Verdict.HUMAN, Judgment.Verdict.BOT
    # The factories' chats have no messages and end when they are made: every evaluator would be flagged "silent"
    # and "fast". These figures are about rates, so the rules flag but exclude nothing (test_rater_flags covers them),
    # and 10 judgments are enough to rank.
    competition.exclusion_rules = {"exclude": []}
    competition.min_judgments_to_rank = 10
    competition.save(update_fields=["exclusion_rules", "min_judgments_to_rank"])
    bob = BotFactory(competition=competition, name="bob")
    eliza = BotFactory(competition=competition, name="eliza", is_baseline=True)
    for passed in (bot, bob, eliza):  # the public leaderboard lists bots that have passed a health check
        BotCall.objects.create(bot=passed, purpose=BotCall.Purpose.HEALTH, ok=True)
    users = [UserFactory(username=f"judge{i}") for i in range(4)]
    for user in users:
        EvaluatorFactory(competition=competition, user=user)
    suspended = UserFactory(username="suspended-sam")
    EvaluatorFactory(competition=competition, user=suspended, status=Evaluator.Status.SUSPENDED)
    not_onboarded = UserFactory(username="newbie-nia")
    EvaluatorFactory(competition=competition, user=not_onboarded, onboarding_passed_at=None)

    day_one = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=2)
    alice_ratings = []
    for i in range(20):
        value = 1 + (i % 4) + (1 if i >= 16 else 0)
        ratings = dict.fromkeys(competition.criteria_keys, value)
        ratings["human_likeness"] = 1 + (i * 3 + i // 4) % 5
        alice_ratings.append(ratings)
        judge_bot(
            bot=bot,
            evaluator=users[i % 4],
            verdict=HUMAN if i < 18 else BOT,
            ratings=ratings,
            when=day_one if i < 10 else day_one + timedelta(days=1),
        )
    for i in range(20):
        judge_bot(bot=bob, evaluator=users[i % 4], verdict=HUMAN if i < 2 else BOT, when=day_one)
    for i in range(10):
        judge_bot(bot=eliza, evaluator=users[i % 4], verdict=HUMAN if i < 5 else BOT, when=day_one)
    for i in range(5):
        judge_human(
            competition=competition, evaluator=users[i % 4], partner=users[(i + 1) % 4], verdict=HUMAN if i < 4 else BOT
        )

    judge_bot(bot=bot, evaluator=users[0], verdict=HUMAN, message_count=2)
    judge_bot(bot=bot, evaluator=suspended, verdict=HUMAN)
    judge_bot(bot=bot, evaluator=not_onboarded, verdict=HUMAN)
    judge_bot(bot=bob, evaluator=users[1], verdict=HUMAN, status=Conversation.Status.BOT_FAILED)
    ConversationFactory(competition=competition, bot=bob, evaluator_a=users[2], status=Conversation.Status.BOT_FAILED)

    for latency in [100.0, 300.0, 200.0, 400.0]:
        BotCall.objects.create(bot=bot, purpose=BotCall.Purpose.TURN, ok=True, latency_ms=latency)
    # Neither a failed turn nor a health probe is a reply latency.
    BotCall.objects.create(bot=bot, purpose=BotCall.Purpose.TURN, ok=False, latency_ms=9000.0, failure_kind="timeout")
    BotCall.objects.create(bot=bot, purpose=BotCall.Purpose.HEALTH, ok=True, latency_ms=9000.0)
    return Scenario(
        competition=competition,
        alice=bot,
        bob=bob,
        eliza=eliza,
        evaluators=users,
        suspended=suspended,
        not_onboarded=not_onboarded,
        alice_ratings=alice_ratings,
        day_one=day_one,
    )
