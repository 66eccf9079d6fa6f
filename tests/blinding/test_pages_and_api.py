"""Every page and API answer the evaluator can fetch is the same for a bot chat and a control chat.

Pairs of chats that differ only in the partner's kind (and, for endings, a failed bot against a human who
left) are fetched by their evaluator (side a); the answers must be equal once ids, aliases and numbers that
legitimately differ between any two chats are made neutral.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from chat import services
from chat.models import Conversation, PartnerKind
from tests.factories import (
    BotFactory,
    CompetitionFactory,
    ConversationFactory,
    EvaluatorFactory,
    MessageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def neutral(text: str) -> str:
    text = CSRF.sub("CSRF", UUID.sub("UUID", text))
    return re.sub(r"\d+", "N", text)


def chat_pair(**ending) -> tuple[Conversation, Conversation]:
    """A bot chat and a control chat of one competition, the evaluator on side a of both, three messages each."""
    competition = CompetitionFactory()
    chats = (
        ConversationFactory(competition=competition, **ending),
        ConversationFactory(
            competition=competition, partner_kind=PartnerKind.HUMAN, bot=None, evaluator_b=UserFactory(), **ending
        ),
    )
    for chat in chats:
        EvaluatorFactory(competition=competition, user=chat.evaluator_a)
        for seq, side in enumerate("aba", start=1):
            MessageFactory(conversation=chat, seq=seq, side=side, text="same words", delivered_text="same words")
        chat.last_seq = 3
        chat.save(update_fields=["last_seq"])
    return chats


def fetch(chat: Conversation, method: str, url: str, **data):
    client = Client()
    client.force_login(chat.evaluator_a)
    response = getattr(client, method)(url, data=data, content_type="application/json") if data else getattr(
        client, method
    )(url)  # fmt: skip
    return response.status_code, neutral(response.get("Location", "")), neutral(response.content.decode())


def evaluator_view(chat: Conversation) -> list:
    """Everything the evaluator of ``chat`` can fetch about it, in the order a browser would."""
    slug = chat.competition.slug
    answers = [
        fetch(chat, "get", reverse("chat-room", kwargs={"public_id": chat.public_id})),
        fetch(chat, "get", reverse("chat-judge", kwargs={"public_id": chat.public_id})),
        fetch(chat, "get", reverse("evaluate-competition", kwargs={"slug": slug})),
        fetch(chat, "get", reverse("api-match-status", kwargs={"slug": slug})),
    ]
    ratings = dict.fromkeys(chat.competition.criteria_keys, 4)
    answers.append(
        fetch(chat, "post", f"/api/v1/chats/{chat.public_id}/judgment/", verdict="human", confidence=3,
              ratings=ratings, reason="Natural.")
    )  # fmt: skip
    answers.append(fetch(chat, "get", reverse("chat-judge", kwargs={"public_id": chat.public_id})))
    answers.append(fetch(chat, "get", reverse("evaluate-competition", kwargs={"slug": slug})))
    return answers


def test_an_active_chat_and_its_pages_look_the_same_whoever_the_partner_is():
    bot_chat, human_chat = chat_pair()
    assert evaluator_view(bot_chat)[:4] == evaluator_view(human_chat)[:4]


@pytest.mark.parametrize(
    ("bot_ending", "human_ending"),
    [
        ({"status": "ended", "end_reason": "turns"}, {"status": "ended", "end_reason": "turns"}),
        ({"status": "ended", "end_reason": "time"}, {"status": "ended", "end_reason": "time"}),
        # A failed bot and a human who went quiet and left.
        ({"status": "bot_failed", "end_reason": "bot_failed"}, {"status": "ended", "end_reason": "left"}),
    ],
)
def test_an_ended_chat_is_judged_the_same_whoever_the_partner_is(bot_ending, human_ending):
    bot_chat, human_chat = chat_pair(ended_at=timezone.now())
    Conversation.objects.filter(pk=bot_chat.pk).update(**bot_ending)
    Conversation.objects.filter(pk=human_chat.pk).update(**human_ending, ended_by="b")
    bot_chat.refresh_from_db()
    human_chat.refresh_from_db()
    bot_answers, human_answers = evaluator_view(bot_chat), evaluator_view(human_chat)
    assert bot_answers[4][0] == 201  # the judgment is accepted (and asked for: the evaluate page sends there)
    assert bot_answers == human_answers


def test_running_out_of_chats_looks_the_same_after_a_bot_chat_and_after_a_control_chat():
    """One bot, one chat with it allowed: a limit counted on bot chats only ran out after the bot chat alone."""
    bot_chat, human_chat = chat_pair(status="ended", end_reason="turns", ended_at=timezone.now())
    competition = bot_chat.competition
    competition.max_chats_per_evaluator_per_bot = 1
    competition.save(update_fields=["max_chats_per_evaluator_per_bot"])
    slug = competition.slug

    def after_judging(chat):
        return [
            *evaluator_view(chat),
            fetch(chat, "post", reverse("api-match-start", kwargs={"slug": slug}), language="en"),
            fetch(chat, "get", reverse("evaluate-competition", kwargs={"slug": slug})),
        ]

    bot_answers, human_answers = after_judging(bot_chat), after_judging(human_chat)
    assert 'data-reason="chats_used_up"' in bot_answers[-1][2]
    assert bot_answers == human_answers


@pytest.mark.parametrize("kinds", [("bot", "bot"), ("bot", "human"), ("human", "human")])
def test_the_chat_quota_counts_bot_and_control_chats_alike(kinds):
    competition = CompetitionFactory(max_chats_per_evaluator_per_bot=1)
    first, second = BotFactory(competition=competition), BotFactory(competition=competition)
    evaluator = EvaluatorFactory(competition=competition).user
    for kind, bot in zip(kinds, (first, second), strict=True):
        partner = {"bot": bot}
        if kind == "human":
            partner = {"partner_kind": PartnerKind.HUMAN, "bot": None, "evaluator_b": UserFactory()}
        ConversationFactory(competition=competition, evaluator_a=evaluator, status="ended", **partner)
    assert services.match_unavailable_reason(competition=competition, user=evaluator) == services.CHATS_USED_UP
    other = EvaluatorFactory(competition=competition).user
    ConversationFactory(competition=competition, bot=first, evaluator_a=other, status="ended")
    assert services.match_unavailable_reason(competition=competition, user=other) == ""
