"""An evaluator's whole path in a real browser: log in, consent, onboarding, chat over the websocket, judge.

Element ids are the page hooks listed in docs/chat-protocol.md.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from chat.models import Conversation, Judgment, Message
from competitions.models import Bot, Competition
from tests.factories import BotFactory, CompetitionFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
# Set to a path (e.g. docs/screenshot.png) to save a screenshot of the chat page for the README.
SCREENSHOT_PATH = os.environ.get("HULIC_E2E_SCREENSHOT", "")


def create_competition(**overrides) -> Competition:
    fields = {
        "slug": "e2e-turing",
        "title": "Turing Test 2026",
        "phase": Competition.Phase.EVALUATION,
        "languages": ["en"],
        "terms": "Chats are recorded and released as a research dataset.",
        "chat_time_limit_seconds": 300,
        "human_partner_wait_seconds": 60,
        **overrides,
    }
    return CompetitionFactory(**fields)


def sign_up(page: Page, username: str) -> None:
    page.goto("/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.org")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.get_by_text(username).first).to_be_visible()


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))


def become_ready_evaluator(page: Page, competition: Competition) -> None:
    """Consent to the terms and pass the onboarding check through the forms."""
    page.goto(f"/evaluate/{competition.slug}/")
    page.click("#consent-submit")
    for number, question in enumerate(competition.onboarding_questions):
        page.check(f"#id_q{number}_{question['answer']}")
    page.click("#onboarding-submit")
    expect(page.locator("#start-submit")).to_be_visible()


def start_chat(page: Page) -> None:
    page.click("#start-submit")


def wait_in_chat(page: Page) -> None:
    page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"), timeout=15_000)
    expect(page.locator("#chat-input")).to_be_enabled()


def send(page: Page, text: str) -> None:
    page.fill("#chat-input", text)
    page.keyboard.press("Enter")
    expect(page.locator("#chat-messages li.bubble.me:not(.pending) .bubble-text").last).to_have_text(text)


def expect_partner_said(page: Page, text: str) -> None:
    expect(page.locator("#chat-messages li.bubble.partner .bubble-text", has_text=text)).to_have_count(1)


def judge(page: Page, competition: Competition, *, verdict_index: int, reason: str) -> None:
    """Fill in the judgment form: verdict (0 human, 1 bot), confidence 4, every criterion 4."""
    expect(page.locator("#chat-ended")).to_be_visible(timeout=15_000)
    page.click("#chat-judge-link")
    page.wait_for_url(re.compile(r"/judge/$"))
    page.check(f"#id_verdict_{verdict_index}")
    page.check("#id_confidence_3")
    for key in competition.criteria_keys:
        page.check(f"#id_rating_{key}_3")
    page.fill("#id_reason", reason)
    page.click("#judgment-submit")
    expect(page.locator("#judgment-saved")).to_be_visible()


def test_two_evaluators_chat_with_each_other_and_judge(new_page, orm, monkeypatch):
    # The first evaluator's hold (before falling back to a bot) must outlast the second one's sign-up.
    monkeypatch.setattr("chat.services.matchmaking.match_wait_s", lambda **kwargs: 60.0)
    competition = orm(create_competition, control_chat_share=1.0, max_turns=6, reveal_partner_after_judgment=True)
    orm(UserFactory, username="bob")
    alice, bob = new_page(), new_page()
    sign_up(alice, "alice")
    log_in(bob, "bob")
    for page in (alice, bob):
        become_ready_evaluator(page, competition)

    start_chat(alice)
    expect(alice.locator("#waiting")).to_be_visible()
    start_chat(bob)
    wait_in_chat(bob)
    wait_in_chat(alice)  # the waiting page's poll takes alice to the chat
    expect(alice.locator("#chat-partner")).not_to_have_text("")

    script = [
        (alice, bob, "Hi! How is your day going so far?"),
        (bob, alice, "Pretty good, just had a coffee. Yours?"),
        (alice, bob, "Busy, but the sun is finally out here."),
        (bob, alice, "Lucky you, it has been raining all week."),
        (alice, bob, "Ha, typical November. Any plans for the weekend?"),
        (bob, alice, "Probably hiking if it clears up!"),  # the sixth message reaches max_turns: the chat ends
    ]
    for number, (writer, reader, text) in enumerate(script, start=1):
        if number == len(script) and SCREENSHOT_PATH:
            Path(SCREENSHOT_PATH).parent.mkdir(parents=True, exist_ok=True)
            alice.screenshot(path=SCREENSHOT_PATH)
        send(writer, text)
        expect_partner_said(reader, text)
        for page in (writer, reader):
            expect(page.locator("#chat-turns")).to_have_text(str(len(script) - number))
            expect(page.locator("#chat-status")).to_have_text("")  # the opening prompt is gone once chat begins

    judge(alice, competition, verdict_index=0, reason="Mentions coffee and the weather like a person would.")
    judge(bob, competition, verdict_index=1, reason="Very short questions.")
    expect(alice.locator("#partner-reveal")).to_have_attribute("data-partner-kind", "human")
    expect(bob.locator("#partner-reveal")).to_have_attribute("data-partner-kind", "human")

    def outcome():
        conversation = Conversation.objects.get(competition=competition)
        judgments = {j.evaluator.username: j.verdict for j in Judgment.objects.filter(conversation=conversation)}
        return conversation.partner_kind, conversation.end_reason, conversation.messages.count(), judgments

    assert orm(outcome) == ("human", "turns", 6, {"alice": "human", "bob": "bot"})


def test_evaluator_chats_with_the_sample_bot_and_judges(new_page, orm, eliza_bot_process):
    port, secret = eliza_bot_process
    # Two messages make a chat long enough to judge here: the test leaves after the bot's first reply.
    competition = orm(
        create_competition,
        control_chat_share=0.0,
        max_turns=30,
        min_turns_to_count=2,
        reveal_partner_after_judgment=True,
    )
    orm(
        BotFactory,
        team=orm(TeamFactory, name="Lab E", slug="lab-e"),
        competition=competition,
        name="ELIZA",
        endpoint_url=f"http://127.0.0.1:{port}/",
        signing_secret=secret,
        status=Bot.Status.VERIFIED,
    )
    orm(UserFactory, username="carol")
    page = new_page()
    log_in(page, "carol")
    become_ready_evaluator(page, competition)
    start_chat(page)
    wait_in_chat(page)

    send(page, "I am feeling a little tired today.")
    # ELIZA answers every message (and may open the chat), after the shortened human-like delay.
    reply = page.locator("#chat-messages li.bubble.me ~ li.bubble.partner .bubble-text")
    expect(reply.first).not_to_be_empty(timeout=15_000)

    def sides_in_order():
        conversation = Conversation.objects.get(competition=competition)
        return "".join(conversation.messages.order_by("seq").values_list("side", flat=True))

    assert "ab" in orm(sides_in_order)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#chat-leave")
    judge(page, competition, verdict_index=1, reason="It turned my words into questions, like ELIZA.")
    expect(page.locator("#partner-reveal")).to_have_attribute("data-partner-kind", "bot")

    def outcome():
        judgment = Judgment.objects.get(competition=competition)
        conversation = judgment.conversation
        bot_messages = Message.objects.filter(conversation=conversation, side="b").count()
        return judgment.partner_kind, judgment.verdict, judgment.bot.name, conversation.end_reason, bot_messages

    partner_kind, verdict, bot_name, end_reason, bot_messages = orm(outcome)
    assert (partner_kind, verdict, bot_name, end_reason) == ("bot", "bot", "ELIZA", "left")
    assert bot_messages >= 1
