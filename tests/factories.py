"""factory_boy factories shared by the whole suite."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from chat.models import Conversation, Evaluator, Judgment, Message, PartnerKind
from competitions.models import Bot, Competition, Team, TeamMembership


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct-horse-battery")


class CompetitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Competition

    slug = factory.Sequence(lambda n: f"comp-{n}")
    title = factory.Sequence(lambda n: f"Competition {n}")
    phase = Competition.Phase.EVALUATION


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = TeamMembership.Role.OWNER


class BotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bot

    team = factory.SubFactory(TeamFactory)
    competition = factory.SubFactory(CompetitionFactory)
    name = factory.Sequence(lambda n: f"bot-{n}")
    endpoint_url = "http://127.0.0.1:9/"
    status = Bot.Status.VERIFIED


class EvaluatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evaluator

    competition = factory.SubFactory(CompetitionFactory)
    user = factory.SubFactory(UserFactory)
    status = Evaluator.Status.ACTIVE
    consented_at = factory.LazyFunction(timezone.now)
    onboarding_passed_at = factory.LazyFunction(timezone.now)


class ConversationFactory(factory.django.DjangoModelFactory):
    """A bot conversation by default; pass partner_kind=HUMAN, bot=None, evaluator_b=user for a control chat."""

    class Meta:
        model = Conversation

    competition = factory.SubFactory(CompetitionFactory)
    language = "en"
    partner_kind = PartnerKind.BOT
    bot = factory.SubFactory(BotFactory, competition=factory.SelfAttribute("..competition"))
    evaluator_a = factory.SubFactory(UserFactory)
    evaluator_b = None
    alias_a = "Partner"
    alias_b = "Partner"
    first_speaker = "a"
    deadline_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=5))


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    seq = factory.Sequence(lambda n: n + 1)
    side = "a"
    text = factory.Faker("sentence")
    delivered_text = factory.SelfAttribute("text")


class JudgmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Judgment

    conversation = factory.SubFactory(ConversationFactory)
    evaluator = factory.SelfAttribute("conversation.evaluator_a")
    competition = factory.SelfAttribute("conversation.competition")
    bot = factory.SelfAttribute("conversation.bot")
    partner_kind = factory.SelfAttribute("conversation.partner_kind")
    verdict = Judgment.Verdict.BOT
    confidence = 4
    ratings = factory.LazyAttribute(lambda j: dict.fromkeys(j.competition.criteria_keys, 3))
    reason = "Replies came too evenly."
    message_count = 8
