"""Attention checks feed rater quality: an evaluator who fails transcript review's gold items (met between chats or on
the review page) is flagged "failed attention checks" and, under the declared rules, leaves the main board; the
rule's boundaries are exactly gold_min and gold_fail_share; the control room shows the evidence."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from chat.models import Conversation
from leaderboard.models import AnalysisPlan, BotScore, EvaluatorScore
from leaderboard.services import competition_recompute
from review import services as review_services
from review.models import ReviewAssignment, ReviewItem, ReviewSettings
from tests.factories import (
    BotFactory,
    CompetitionFactory,
    ConversationFactory,
    EvaluatorFactory,
    JudgmentFactory,
    MessageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def judged_chat(*, bot, user, verdict, rating):
    """A chat judged at a human pace, with the evaluator's own messages: no response-pattern flag."""
    ended = timezone.now() - timedelta(hours=1)
    conversation = ConversationFactory(
        competition=bot.competition, bot=bot, evaluator_a=user, status=Conversation.Status.ENDED, ended_at=ended
    )
    for seq in range(3):
        MessageFactory(conversation=conversation, seq=seq + 1, side="a")
    ratings = dict.fromkeys(bot.competition.criteria_keys, rating)
    return JudgmentFactory(
        conversation=conversation, verdict=verdict, ratings=ratings, created_at=ended + timedelta(seconds=40)
    )


def judge_six(bot, user, *, human: int):
    """Six varied judgments, `human` of them "human"."""
    for i in range(6):
        judged_chat(
            bot=bot, user=user, verdict="human" if i < human else "bot", rating=4 + i % 2 if i < human else 2 + i % 2
        )


@pytest.fixture
def board():
    """A bot judged by evaluators whose judgments all look honest; four gold chats (a third party's) to check with."""
    competition = CompetitionFactory(min_turns_to_count=4)
    ReviewSettings.objects.create(competition=competition, attention_check_every=1, attention_checks_per_evaluator=4)
    bot = BotFactory(competition=competition, name="mimic")
    chatter = UserFactory(username="chatter")
    golds = []
    for _ in range(4):
        chat = ConversationFactory(
            competition=competition, bot=bot, evaluator_a=chatter, status=Conversation.Status.ENDED, last_seq=6
        )
        for seq in range(1, 7):
            MessageFactory(conversation=chat, seq=seq, side="a" if seq % 2 else "b")
        golds.append(review_services.gold_mark(competition=competition, first=chat))
    return competition, bot, golds


def answer_checks(competition, user, golds, *, right: int, wrong: int):
    """The user answers right + wrong of the gold items (answer: bot), through the review services."""
    for index, gold in enumerate(golds[: right + wrong]):
        item, _ = ReviewItem.objects.get_or_create(
            gold=gold, defaults={"competition": competition, "kind": gold.kind, "first_id": gold.first_id}
        )
        assignment = ReviewAssignment.objects.create(
            item=item, reviewer=user, competition=competition, attention_check=True
        )
        review_services.review_record_single(
            assignment_id=assignment.pk,
            user=user,
            verdict="bot" if index < right else "human",
            confidence=3,
            reason="Read it.",
        )


def evaluator(competition, bot, username, *, human=3):
    user = UserFactory(username=username)
    EvaluatorFactory(competition=competition, user=user)
    judge_six(bot, user, human=human)
    return user


def test_an_evaluator_failing_gold_items_is_excluded_after_recompute_and_one_passing_is_not(board):
    competition, bot, golds = board
    honest = evaluator(competition, bot, "honest", human=3)
    careless = evaluator(competition, bot, "careless", human=6)  # calls the bot human six times of six
    answer_checks(competition, honest, golds, right=4, wrong=0)
    answer_checks(competition, careless, golds, right=1, wrong=3)

    snapshot = competition_recompute(competition_id=competition.pk)

    careless_score = EvaluatorScore.objects.get(user=careless)
    assert careless_score.exclusion == EvaluatorScore.Exclusion.FLAGGED
    assert careless_score.flags == {"failed_checks": "3/4 attention checks failed"}
    honest_score = EvaluatorScore.objects.get(user=honest)
    assert (honest_score.exclusion, honest_score.flags) == ("", {})
    rate = BotScore.objects.get(bot=bot)
    assert (rate.judgments, rate.evaluators, rate.pass_rate) == (6, 1, 0.5)
    assert (snapshot.excluded_flagged_judgments, snapshot.evaluators_flagged) == (6, 1)


@pytest.mark.parametrize(
    ("right", "wrong", "flagged"),
    [
        (0, 1, False),  # one check: fewer than gold_min (2), however it went
        (1, 1, True),  # exactly gold_min, exactly gold_fail_share (1/2)
        (2, 1, False),  # 1/3 < 1/2
        (2, 2, True),  # 2/4 = 1/2
        (3, 1, False),  # 1/4
        (2, 0, False),
    ],
)
def test_the_rule_fires_exactly_at_gold_min_and_gold_fail_share(board, right, wrong, flagged):
    competition, bot, golds = board
    user = evaluator(competition, bot, "someone")
    answer_checks(competition, user, golds, right=right, wrong=wrong)

    competition_recompute(competition_id=competition.pk)

    score = EvaluatorScore.objects.get(user=user)
    assert ("failed_checks" in score.flags) is flagged
    assert (score.exclusion == EvaluatorScore.Exclusion.FLAGGED) is flagged


def test_gold_items_answered_on_the_review_page_count_too(board):
    competition, bot, golds = board
    user = evaluator(competition, bot, "reviewer")
    answer_checks(competition, user, golds, right=0, wrong=2)
    ReviewAssignment.objects.filter(reviewer=user).update(attention_check=False)

    competition_recompute(competition_id=competition.pk)

    assert EvaluatorScore.objects.get(user=user).flags == {"failed_checks": "2/2 attention checks failed"}


def test_the_control_room_shows_failed_checks_with_their_evidence(client, organizer, board):
    competition, bot, golds = board
    careless = evaluator(competition, bot, "careless")
    answer_checks(competition, careless, golds, right=0, wrong=3)
    competition_recompute(competition_id=competition.pk)
    client.force_login(organizer)

    html = client.get(reverse("admin:controlroom_controlroom_room", args=[competition.pk])).content.decode()
    progress = client.get(reverse("review-progress", kwargs={"slug": competition.slug})).content.decode()

    assert "<strong>careless</strong>" in html and "Failed attention checks — 3/3 attention checks failed" in html
    assert "careless" in progress and progress.count("expected") >= 1  # each strike: expected and given answers


def test_the_attention_checks_are_in_the_locked_plan_and_cannot_change_after_it(client, board):
    competition, _bot, _golds = board
    competition_recompute(competition_id=competition.pk)
    plan = AnalysisPlan.objects.get(competition=competition).plan
    assert plan["attention_checks"]["every_judged_chats"] == 1 and plan["attention_checks"]["per_evaluator"] == 4
    page = client.get(competition.get_absolute_url()).content.decode()
    assert 'id="lb-plan-attention-checks"' in page
    assert "in each block of 1 judged chats, at most 4 per evaluator" in page
    assert "answered at least 2 checks and 50% or more of them wrongly" in page

    review_settings = ReviewSettings.objects.get(competition=competition)
    review_settings.attention_check_every = 3
    with pytest.raises(Exception, match="locked when evaluation opened"):
        review_settings.full_clean()


def test_a_plan_without_attention_checks_says_nothing_of_them_so_locked_plans_keep_their_hash():
    from leaderboard import plan

    settings = {
        "min_turns_to_count": 4,
        "equivalence_margin": 0.1,
        "min_judgments_to_rank": 30,
        "exclusion_rules": None,
    }
    without = plan.analysis_plan(**settings)
    checks = {"every_judged_chats": 3, "per_evaluator": 4}
    with_checks = plan.analysis_plan(**settings, attention_checks=checks)

    assert "attention_checks" not in without
    assert with_checks == without | {"attention_checks": checks}
    assert plan.plan_hash(with_checks) != plan.plan_hash(without)
