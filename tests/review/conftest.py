"""A competition with finished chats of three bots (two teams) and control chats, ready for transcript review."""

from dataclasses import dataclass

import pytest

from chat.models import Conversation, PartnerKind
from review.models import ReviewSettings
from tests.factories import (
    BotFactory,
    CompetitionFactory,
    ConversationFactory,
    EvaluatorFactory,
    MessageFactory,
    TeamMembershipFactory,
    UserFactory,
)


def finished_chat(*, competition, evaluator, bot=None, partner=None, messages=6):
    kind = {"partner_kind": PartnerKind.BOT, "bot": bot} if bot else {"partner_kind": PartnerKind.HUMAN, "bot": None}
    conversation = ConversationFactory(
        competition=competition,
        evaluator_a=evaluator,
        evaluator_b=partner,
        status=Conversation.Status.ENDED,
        last_seq=messages,
        **kind,
    )
    for seq in range(1, messages + 1):
        MessageFactory(conversation=conversation, seq=seq, side="a" if seq % 2 else "b", text=f"line {seq}")
    return conversation


@dataclass
class ReviewWorld:
    competition: object
    bots: list
    chats: list
    control_chats: list
    chatters: list
    reviewers: list
    settings: ReviewSettings


def make_reviewer(competition, username):
    return EvaluatorFactory(competition=competition, user=UserFactory(username=username)).user


@pytest.fixture
def world(db) -> ReviewWorld:
    competition = CompetitionFactory(slug="review-cup", min_turns_to_count=4)
    alpha_team = TeamMembershipFactory(user__username="ada", team__name="Alpha", team__slug="alpha").team
    bots = [
        BotFactory(competition=competition, team=alpha_team, name="alpha-bot"),
        BotFactory(competition=competition, name="beta-bot"),
        BotFactory(competition=competition, name="gamma-bot"),
    ]
    chatters = [UserFactory(username=f"chatter{n}") for n in range(4)]
    chats = [
        finished_chat(competition=competition, evaluator=chatters[n % 4], bot=bot) for bot in bots for n in range(4)
    ]
    control_chats = [
        finished_chat(competition=competition, evaluator=chatters[n], partner=chatters[(n + 1) % 4]) for n in range(4)
    ]
    # Not reviewable: too short, and a bot failure.
    finished_chat(competition=competition, evaluator=chatters[0], bot=bots[1], messages=2)
    failed = finished_chat(competition=competition, evaluator=chatters[1], bot=bots[2])
    failed.status = Conversation.Status.BOT_FAILED
    failed.save(update_fields=["status"])
    reviewers = [make_reviewer(competition, f"reviewer{n}") for n in range(6)]
    settings = ReviewSettings.objects.create(competition=competition, enabled=True, gold_rate=0.0)
    return ReviewWorld(competition, bots, chats, control_chats, chatters, reviewers, settings)
