import pytest
from django.utils import timezone

from chat.models import Conversation, PartnerKind
from competitions.models import Competition
from tests.factories import (
    BotFactory,
    ConversationFactory,
    JudgmentFactory,
    MessageFactory,
    TeamMembershipFactory,
    UserFactory,
)

RAW_FLAGGED_TEXT = "my phone is 010-5555-1234 zebra"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The factories hash a password per user; PBKDF2 would make the fixtures take seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def dataset(db):
    """A competition with two teams' bots, bot chats, a control chat, a flagged message and judgments."""
    competition = Competition.objects.create(
        slug="export-cup", title="Export Cup", phase=Competition.Phase.EVALUATION, terms="Be kind. Data is CC BY."
    )
    owner_a = TeamMembershipFactory(user__username="owner-qzx-a", team__name="Team Qzx A", team__slug="team-a").user
    owner_b = TeamMembershipFactory(user__username="owner-qzx-b", team__name="Team Qzx B", team__slug="team-b").user
    team_a, team_b = owner_a.teams.get(), owner_b.teams.get()
    bot_a = BotFactory(team=team_a, competition=competition, name="botqzx-alpha")
    bot_b = BotFactory(team=team_b, competition=competition, name="botqzx-beta")
    judges = [UserFactory(username=f"judge-qzx-{i}", email=f"judge-qzx-{i}@mail.test") for i in range(3)]
    ended = {"status": Conversation.Status.ENDED, "ended_at": timezone.now(), "end_reason": "time"}
    conversations = [
        ConversationFactory(competition=competition, bot=bot_a, evaluator_a=judges[0], **ended),
        ConversationFactory(competition=competition, bot=bot_a, evaluator_a=judges[1], language="ko", **ended),
        ConversationFactory(competition=competition, bot=bot_b, evaluator_a=judges[2], **ended),
        ConversationFactory(
            competition=competition,
            partner_kind=PartnerKind.HUMAN,
            bot=None,
            evaluator_a=judges[0],
            evaluator_b=judges[2],
            **ended,
        ),
    ]
    active = ConversationFactory(competition=competition, bot=bot_b, evaluator_a=judges[1])
    for conversation in [*conversations, active]:
        for seq in range(1, 5):
            side = "a" if seq % 2 else "b"
            author = conversation.evaluator_a if side == "a" else conversation.evaluator_b
            MessageFactory(
                conversation=conversation,
                seq=seq,
                side=side,
                author=author,
                text=f'hello, line {seq}\nsecond line, with "quotes"',
                bot_latency_ms=812.5 if side == "b" and conversation.bot_id else None,
            )
    MessageFactory(
        conversation=conversations[0],
        seq=5,
        side="a",
        author=judges[0],
        text=RAW_FLAGGED_TEXT,
        delivered_text="my phone is ***** zebra",
        flagged=True,
    )
    for conversation in conversations[:3]:
        JudgmentFactory(conversation=conversation)
    JudgmentFactory(conversation=conversations[3], evaluator=judges[0], verdict="human")
    JudgmentFactory(conversation=conversations[3], evaluator=judges[2], verdict="bot", confidence=2)
    return {
        "competition": competition,
        "team_a": team_a,
        "team_b": team_b,
        "owner_a": owner_a,
        "owner_b": owner_b,
        "conversations": conversations,
        "judges": judges,
    }
