"""Attention checks in the evaluate flow: transcript review's gold items, met between two judged chats at the declared
rate, shown by the review page exactly like any review item, and recorded like one (a wrong answer is a strike)."""

import re

import pytest
from django.urls import reverse

from chat.models import Conversation
from review import services
from review.models import ReviewAssignment, ReviewItem, Strike
from tests.factories import EvaluatorFactory, JudgmentFactory, UserFactory

from .conftest import finished_chat, make_reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def checked_world(world):
    """The review world with review closed to evaluators, checks every 3 judged chats (at most 2), and every chat of
    beta-bot and every control chat a gold item."""
    world.settings.enabled = False
    world.settings.attention_check_every = 3
    world.settings.attention_checks_per_evaluator = 2
    world.settings.save()
    for chat in [c for c in world.chats if c.bot_id == world.bots[1].pk] + world.control_chats:
        services.gold_mark(competition=world.competition, first=chat)
    return world


def judge_one(world, user):
    chat = finished_chat(competition=world.competition, evaluator=user, bot=world.bots[2])
    JudgmentFactory(conversation=chat)


def answer_check(check, user, verdict="bot"):
    services.review_record_single(assignment_id=check.pk, user=user, verdict=verdict, confidence=3, reason="Read.")


def checks_met(world, user, chats):
    """Judge `chats` chats, asking for a check before each next chat as the evaluate flow does: the gaps (after how
    many judged chats) that held a check."""
    gaps = []
    for judged in range(chats + 1):
        check = services.attention_check_next(competition=world.competition, user=user)
        if check is not None:
            assert check.attention_check and check.item.gold is not None and check.item.kind == "single"
            gaps.append(judged)
            answer_check(check, user)
            assert services.attention_check_next(competition=world.competition, user=user) is None, "one per gap"
        if judged < chats:
            judge_one(world, user)
    return gaps


def test_each_evaluator_meets_one_check_per_block_of_judged_chats_up_to_the_limit(checked_world):
    positions = set()
    for n in range(6):
        user = make_reviewer(checked_world.competition, f"evaluator{n}")
        gaps = checks_met(checked_world, user, chats=9)
        assert len(gaps) == 2, "at most attention_checks_per_evaluator"
        assert 1 <= gaps[0] <= 3 and 4 <= gaps[1] <= 6, "one in each block of 3 judged chats"
        positions.add(tuple(gaps))
    assert len(positions) > 1, "the position within a block is drawn per evaluator, not fixed"


def test_no_check_is_given_without_a_gold_item_the_evaluator_may_see(checked_world):
    # ada's team owns alpha-bot; only alpha-bot chats are gold now, so she can be shown none of them.
    ada = checked_world.bots[0].team.members.get()
    EvaluatorFactory(competition=checked_world.competition, user=ada)
    checked_world.competition.gold_items.all().delete()
    for chat in [c for c in checked_world.chats if c.bot_id == checked_world.bots[0].pk]:
        services.gold_mark(competition=checked_world.competition, first=chat)
    assert checks_met(checked_world, ada, chats=6) == []


def test_no_check_before_onboarding_or_when_the_plan_has_none(checked_world):
    newcomer = UserFactory(username="newcomer")
    EvaluatorFactory(competition=checked_world.competition, user=newcomer, onboarding_passed_at=None)
    assert checks_met(checked_world, newcomer, chats=4) == []
    checked_world.settings.attention_check_every = 0
    checked_world.settings.save()
    assert checks_met(checked_world, make_reviewer(checked_world.competition, "later"), chats=4) == []


def test_the_evaluate_flow_shows_the_check_on_the_review_page_and_comes_back(client, checked_world):
    user = make_reviewer(checked_world.competition, "flow")
    client.force_login(user)
    evaluate = reverse("evaluate-competition", kwargs={"slug": checked_world.competition.slug})
    for _ in range(3):
        judge_one(checked_world, user)

    response = client.post(evaluate, {"action": "start", "language": "en"})

    review_url = reverse("review", kwargs={"slug": checked_world.competition.slug}) + "?then=evaluate"
    assert response.status_code == 302 and response.url == review_url
    html = client.get(review_url).content.decode()
    check = ReviewAssignment.objects.get(reviewer=user)
    assert check.attention_check and 'id="review-between-chats"' in html and html.count("rv-speaker") == 6
    gold = check.item.gold
    wrong = "human" if gold.answer_verdict == "bot" else "bot"
    response = client.post(
        review_url, {"assignment": str(check.public_id), "verdict": wrong, "confidence": "3", "reason": "Guess."}
    )
    assert response.status_code == 302 and response.url == evaluate
    assert Strike.objects.get(reviewer=user).given == wrong
    # The check is done: starting now looks for a partner (no check left in this gap).
    assert services.attention_check_next(competition=checked_world.competition, user=user) is None


def _normalised(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'name="assignment" value="[^"]+"', "", html)
    return re.sub(r"reviewer_[ab]", "someone", html)


def test_a_gold_item_looks_exactly_like_an_ordinary_review_item_of_the_same_chat(client, checked_world):
    # The same chat is a gold item for one evaluator (an attention check) and an ordinary review item for another.
    chat = next(c for c in checked_world.chats if c.bot_id == checked_world.bots[1].pk)
    gold = checked_world.competition.gold_items.get(first=chat)
    checked = make_reviewer(checked_world.competition, "reviewer_a")
    plain = make_reviewer(checked_world.competition, "reviewer_b")
    gold_item = ReviewItem.objects.create(competition=checked_world.competition, kind="single", first=chat, gold=gold)
    plain_item = ReviewItem.objects.create(competition=checked_world.competition, kind="single", first=chat)
    ReviewAssignment.objects.create(
        item=gold_item, reviewer=checked, competition=checked_world.competition, attention_check=True
    )
    ReviewAssignment.objects.create(item=plain_item, reviewer=plain, competition=checked_world.competition)
    checked_world.settings.enabled = True
    checked_world.settings.save()
    pages = {}
    for user in (checked, plain):
        client.force_login(user)
        for then in ("", "?then=evaluate"):
            pages[user.username, then] = client.get(
                reverse("review", kwargs={"slug": checked_world.competition.slug}) + then
            )
    for then in ("", "?then=evaluate"):
        gold_page, plain_page = pages["reviewer_a", then], pages["reviewer_b", then]
        assert gold_page.status_code == plain_page.status_code == 200
        assert _normalised(gold_page.content.decode()) == _normalised(plain_page.content.decode())
        assert "gold" not in gold_page.content.decode().lower()


def test_the_chat_s_own_people_never_learn_it_became_a_check(client, checked_world):
    chat = next(c for c in checked_world.chats if c.bot_id == checked_world.bots[1].pk)
    control = checked_world.control_chats[0]
    JudgmentFactory(conversation=chat)
    JudgmentFactory(conversation=control)
    JudgmentFactory(conversation=control, evaluator=control.evaluator_b)
    EvaluatorFactory(competition=checked_world.competition, user=chat.evaluator_a)
    people = {chat.evaluator_a, control.evaluator_a, control.evaluator_b}
    for user in people:
        client.force_login(user)
        pages = [
            client.get(reverse("evaluator-history", kwargs={"slug": checked_world.competition.slug})),
            *(
                client.get(reverse("chat-judge", kwargs={"public_id": c.public_id}))
                for c in (chat, control)
                if user.pk in (c.evaluator_a_id, c.evaluator_b_id)
            ),
        ]
        for page in pages:
            text = page.content.decode().lower()
            assert page.status_code == 200
            assert "gold" not in text and "attention check" not in text and "known answer" not in text


def test_a_pending_check_waits_for_the_evaluator_and_other_review_items_wait_for_it(checked_world):
    user = make_reviewer(checked_world.competition, "busy")
    for _ in range(3):
        judge_one(checked_world, user)
    check = services.attention_check_next(competition=checked_world.competition, user=user)
    assert check is not None
    assert services.attention_check_next(competition=checked_world.competition, user=user) == check
    checked_world.settings.enabled = True
    checked_world.settings.save()
    assert services.review_next(competition=checked_world.competition, user=user) == check
    assert Conversation.objects.filter(pk=check.item.first_id, bot=checked_world.bots[1]).exists() or (
        Conversation.objects.filter(pk=check.item.first_id, bot__isnull=True).exists()
    )


def test_the_terms_say_that_between_chat_transcripts_can_be_checks_only_when_there_are_checks(client, checked_world):
    newcomer = UserFactory(username="newcomer")
    client.force_login(newcomer)
    evaluate = reverse("evaluate-competition", kwargs={"slug": checked_world.competition.slug})
    assert 'id="terms-attention-checks"' in client.get(evaluate).content.decode()
    checked_world.settings.attention_check_every = 0
    checked_world.settings.save()
    assert 'id="terms-attention-checks"' not in client.get(evaluate).content.decode()
