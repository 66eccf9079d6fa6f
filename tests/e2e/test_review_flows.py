"""A reviewer's path in a real browser: a single transcript judged with the keyboard, then a pair of transcripts,
and the review page on a phone-sized screen."""

import re

import pytest
from playwright.sync_api import Page, expect

from chat.models import Conversation, PartnerKind
from competitions.models import Competition
from review.models import PairwiseReview, ReviewSettings, SingleReview
from tests.factories import (
    BotFactory,
    CompetitionFactory,
    ConversationFactory,
    EvaluatorFactory,
    MessageFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def review_world() -> Competition:
    competition = CompetitionFactory(slug="e2e-review", title="Review Cup", phase=Competition.Phase.EVALUATION)
    chatters = [UserFactory(username=f"chatter{n}") for n in range(2)]
    bots = [BotFactory(competition=competition, name=f"bot-{n}") for n in range(2)]
    partners = [{"bot": bot} for bot in bots] + [
        {"bot": None, "partner_kind": PartnerKind.HUMAN, "evaluator_b": chatters[1]}
    ]
    for partner in partners:
        chat = ConversationFactory(
            competition=competition, evaluator_a=chatters[0], status=Conversation.Status.ENDED, last_seq=6, **partner
        )
        for seq in range(1, 7):
            side = "a" if seq % 2 else "b"
            MessageFactory(conversation=chat, seq=seq, side=side, text=f"{side}-line-{seq} of chat {chat.pk}")
    EvaluatorFactory(competition=competition, user=UserFactory(username="rita"))
    ReviewSettings.objects.create(competition=competition, enabled=True, pairwise_share=0.0, gold_rate=0.0)
    return competition


def set_pairwise_share(share: float) -> None:
    ReviewSettings.objects.filter(competition__slug="e2e-review").update(pairwise_share=share)


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))


def test_a_reviewer_judges_a_single_transcript_and_a_pair(new_page, orm):
    orm(review_world)
    page = new_page()
    log_in(page, "rita")
    page.goto("/c/e2e-review/review/")

    expect(page.locator(".rv-transcript li")).to_have_count(6)
    expect(page.locator(".rv-speaker").first).to_have_text("Interrogator")
    expect(page.locator(".rv-witness .rv-speaker").first).to_have_text("Witness")
    # The keyboard alone: H for human, 4 for the confidence, R to the reason, Ctrl+Enter to save.
    page.locator("h1").click()
    page.keyboard.press("h")
    page.keyboard.press("4")
    page.keyboard.press("r")
    page.keyboard.type("Answers were short and warm.")
    orm(set_pairwise_share, 1.0)
    page.keyboard.press("Control+Enter")

    expect(page.locator("#rv-left .rv-transcript li")).to_have_count(6)
    expect(page.locator("#rv-right .rv-transcript li")).to_have_count(6)
    expect(page.locator("#review-count")).to_contain_text("1 item reviewed")
    page.locator("h1").click()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#id_chosen_side_1")).to_be_checked()
    page.fill("#id_reason", "The right one asked questions back.")
    page.click("#review-submit")
    # Three chats in all: after one single and one pair, every chat was shown once and nothing is left.
    expect(page.locator("#review-message")).to_contain_text("nothing for you to review")

    single = orm(lambda: SingleReview.objects.values("verdict", "confidence", "reason").get())
    assert single == {"verdict": "human", "confidence": 4, "reason": "Answers were short and warm."}
    pairwise = orm(lambda: PairwiseReview.objects.select_related("assignment__item").get())
    assert pairwise.chosen_side == "right"
    assert pairwise.chosen_id == pairwise.assignment.left_right[1]


def test_the_review_page_fits_a_phone_screen(browser, asgi_server, orm):
    orm(review_world)
    orm(set_pairwise_share, 1.0)
    context = browser.new_context(base_url=asgi_server.url, viewport={"width": 375, "height": 740}, is_mobile=True)
    try:
        page = context.new_page()
        log_in(page, "rita")
        page.goto("/c/e2e-review/review/")
        expect(page.locator("#rv-right .rv-transcript li")).to_have_count(6)
        overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, "no sideways scrolling"
        left, right = page.locator("#rv-left").bounding_box(), page.locator("#rv-right").bounding_box()
        assert right["y"] >= left["y"] + left["height"] - 1, "the two transcripts stack on a narrow screen"
        assert page.locator(".rv-transcript li").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 14
    finally:
        context.close()


def attention_check_world() -> None:
    """The review world with review closed, a check after every judged chat, every chat of the world a gold item, and
    an evaluator, evan, who has judged one chat of his own."""
    from review.services import gold_mark
    from tests.factories import JudgmentFactory

    competition = review_world()
    ReviewSettings.objects.filter(competition=competition).update(
        enabled=False, attention_check_every=1, attention_checks_per_evaluator=2
    )
    for chat in Conversation.objects.filter(competition=competition):
        gold_mark(competition=competition, first=chat)
    evan = UserFactory(username="evan")
    EvaluatorFactory(competition=competition, user=evan)
    own = ConversationFactory(
        competition=competition,
        evaluator_a=evan,
        bot=BotFactory(competition=competition, name="bot-own"),
        status=Conversation.Status.ENDED,
        last_seq=6,
    )
    JudgmentFactory(conversation=own)


def test_an_evaluator_meets_an_attention_check_before_the_next_chat_and_comes_back(new_page, orm):
    from review.models import ReviewAssignment

    orm(attention_check_world)
    page = new_page()
    log_in(page, "evan")
    page.goto("/evaluate/e2e-review/")

    page.click("#start-submit")

    page.wait_for_url(re.compile(r"/c/e2e-review/review/\?then=evaluate$"))
    expect(page.locator("#review-between-chats")).to_be_visible()
    expect(page.locator(".rv-transcript li")).to_have_count(6)
    assert "gold" not in page.content().lower()
    page.locator("h1").click()
    page.keyboard.press("b")
    page.keyboard.press("3")
    page.keyboard.press("r")
    page.keyboard.type("Too even.")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/evaluate/e2e-review/$"))
    expect(page.locator("#start-submit")).to_be_visible()

    check = orm(lambda: ReviewAssignment.objects.select_related("item__gold").get(reviewer__username="evan"))
    assert check.attention_check and check.status == "done" and check.item.gold is not None
    assert orm(lambda: SingleReview.objects.get(reviewer__username="evan").verdict) == "bot"
