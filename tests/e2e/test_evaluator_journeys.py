"""Issue 13, evaluators: no endless waits, the README demo pairs two people, onboarding feedback, judging beside
the transcript, the evaluator's own page. In English and Korean, in Chromium."""

import re
import time

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from chat.models import Conversation, Judgment
from competitions.models import Competition
from tests.e2e.journeys import keep_screenshot, log_in, open_page, pass_onboarding
from tests.factories import BotFactory, CompetitionFactory, ConversationFactory, JudgmentFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def evaluator_who_met_every_bot(**competition_fields):
    competition = CompetitionFactory(slug="spent", max_chats_per_evaluator_per_bot=1, **competition_fields)
    user = UserFactory(username="spent")
    for _ in range(2):
        bot = BotFactory(competition=competition)
        chat = ConversationFactory(competition=competition, bot=bot, evaluator_a=user, status="ended", last_seq=6)
        JudgmentFactory(conversation=chat)
    return competition


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "You have had all your chats"), ("ko", "모든 채팅을 마쳤습니다")],
)
def test_an_evaluator_who_used_up_their_chats_sees_a_clear_state_within_seconds(
    browser, asgi_server, orm, language, heading
):
    # Every request looks for a person first (as in the demo); the quota (two bots, one chat each) still holds,
    # so the page says so as soon as onboarding is passed, with no start offered.
    competition = orm(evaluator_who_met_every_bot, control_chat_share=1.0, human_partner_wait_seconds=1)
    page = open_page(browser, asgi_server, language=language)
    log_in(page, "spent", PASSWORD)
    page.goto(f"/evaluate/{competition.slug}/")
    page.click("#consent-submit")
    for number, question in enumerate(competition.onboarding_questions):
        page.check(f"#id_q{number}_{question['answer']}")
    started = time.monotonic()
    page.click("#onboarding-submit")
    expect(page.locator("#evaluate-unavailable")).to_be_visible(timeout=8_000)
    assert time.monotonic() - started < 8
    expect(page.locator("#evaluate-unavailable h2")).to_have_text(heading)
    expect(page.locator("#waiting")).to_have_count(0)
    expect(page.locator("#start-submit")).to_have_count(0)
    expect(page.locator("#unavailable-history")).to_be_visible()
    keep_screenshot(page, f"evaluate-unavailable-{language}")


def test_two_evaluators_started_together_in_the_demo_are_paired_as_humans(browser, asgi_server, orm):
    orm(call_command, "seed_demo")
    competition = orm(Competition.objects.get, slug="turing-demo")
    eva, evan = open_page(browser, asgi_server), open_page(browser, asgi_server, language="ko")
    for page, name in ((eva, "eva"), (evan, "evan")):
        log_in(page, name, "hulic-demo")
        pass_onboarding(page, competition.slug, competition.onboarding_questions)
    eva.click("#start-submit")
    expect(eva.locator("#waiting")).to_be_visible()
    keep_screenshot(eva, "evaluate-waiting-en")
    evan.select_option("#start-language", "en")  # his pages are Korean; the chat is in English, as eva's
    evan.click("#start-submit")
    for page in (eva, evan):
        page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"), timeout=15_000)
    assert eva.url == evan.url
    chat = orm(Conversation.objects.select_related("evaluator_a", "evaluator_b").get, competition=competition)
    assert chat.partner_kind == "human"
    assert {chat.evaluator_a.username, chat.evaluator_b.username} == {"eva", "evan"}


def test_onboarding_says_which_answer_was_wrong_in_korean(browser, asgi_server, orm):
    competition = orm(CompetitionFactory, slug="quiz")
    orm(UserFactory, username="learner")
    page = open_page(browser, asgi_server, language="ko")
    log_in(page, "learner", PASSWORD)
    page.goto(f"/evaluate/{competition.slug}/")
    page.click("#consent-submit")
    questions = competition.onboarding_questions
    page.check(f"#id_q0_{questions[0]['answer']}")
    page.check(f"#id_q1_{1 - questions[1]['answer']}")
    page.click("#onboarding-submit")
    expect(page.locator("#question-1 .errorlist")).to_contain_text("틀렸어요")
    expect(page.locator("#question-0 .errorlist")).to_have_count(0)
    keep_screenshot(page, "onboarding-wrong-ko")


def ended_chat_with_messages(username: str):
    competition = CompetitionFactory(slug="judging", reveal_partner_after_judgment=True)
    user = UserFactory(username=username)
    chat = ConversationFactory(competition=competition, evaluator_a=user, status="ended", last_seq=8, alias_b="Maple")
    lines = [
        "Hi! How is your day going?",
        "Pretty good, I just had lunch.",
        "What did you have?",
        "Kimchi stew, it was a bit too spicy honestly.",
        "Ha, I love spicy food. Do you cook?",
        "Sometimes, mostly ramen though.",
        "Same here. Any plans for the weekend?",
        "Probably hiking if the weather holds up.",
    ]
    for seq, text in enumerate(lines, start=1):
        chat.messages.create(seq=seq, side="a" if seq % 2 else "b", text=text, delivered_text=text)
    return chat


@pytest.mark.parametrize("language", ["en", "ko"])
def test_judging_beside_the_transcript_with_the_keyboard_then_the_own_page(browser, asgi_server, orm, language):
    chat = orm(ended_chat_with_messages, f"judge-{language}")
    page = open_page(browser, asgi_server, language=language)
    log_in(page, f"judge-{language}", PASSWORD)
    page.goto(f"/chat/{chat.public_id}/judge/")
    transcript, form = page.locator("#judge-transcript"), page.locator("#judgment-form")
    expect(transcript.locator("li.bubble")).to_have_count(8)
    left, right = transcript.bounding_box(), form.bounding_box()
    assert left["x"] + left["width"] <= right["x"], "the transcript sits beside the form"
    assert right["height"] < 760, f"the form fits the screen: {right['height']} px"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    keep_screenshot(page, f"judge-{language}")

    # Keyboard only: each scale is a radio group (Space picks, the arrow keys move), Tab goes to the next.
    page.focus("#id_verdict_0")
    page.keyboard.press("ArrowRight")  # bot
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # confidence 1
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # confidence 3
    for _ in chat.competition.criteria_keys:
        page.keyboard.press("Tab")
        page.keyboard.press("Space")
        page.keyboard.press("ArrowRight")  # 2
    page.keyboard.press("Tab")
    page.keyboard.type("Too quick with the weekend plans.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#judgment-saved")).to_be_visible()

    judgment = orm(Judgment.objects.get, conversation=chat)
    assert (judgment.verdict, judgment.confidence) == ("bot", 3)
    assert set(judgment.ratings.values()) == {2}

    page.goto(f"/evaluate/{chat.competition.slug}/history/")
    expect(page.locator("#history-table tbody tr")).to_have_count(1)
    expect(page.locator("#history-accuracy")).to_contain_text("1")
    keep_screenshot(page, f"history-{language}")
