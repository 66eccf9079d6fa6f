"""Issue 13, the chat page in Chromium: reporting the partner without leaving the chat (an unsent message stays),
"Reconnecting…" when the network drops, and a Send button that looks disabled once the chat is over."""

import re

import pytest
from playwright.sync_api import expect

from chat.models import Report
from tests.e2e.journeys import log_in, open_page
from tests.factories import CompetitionFactory, ConversationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {"thanks": "Thank you. The organizers will review your report.", "reconnecting": "Reconnecting"},
    "ko": {"thanks": "감사합니다", "reconnecting": "다시 연결"},
}


def human_chat(language: str):
    competition = CompetitionFactory(slug=f"page-{language}")
    return ConversationFactory(
        competition=competition,
        partner_kind="human",
        bot=None,
        evaluator_a=UserFactory(username=f"reporter-{language}"),
        evaluator_b=UserFactory(username=f"partner-{language}"),
    )


@pytest.mark.parametrize("language", ["en", "ko"])
def test_report_offline_and_ended_states_on_the_chat_page(browser, asgi_server, orm, language):
    chat = orm(human_chat, language)
    page = open_page(browser, asgi_server, language=language)
    log_in(page, f"reporter-{language}", "correct-horse-battery")
    page.goto(f"/chat/{chat.public_id}/")
    expect(page.locator("#chat-input")).to_be_enabled()
    enabled_look = page.locator("#chat-send").evaluate("b => getComputedStyle(b).backgroundColor")

    page.fill("#chat-input", "a message I have not sent yet")
    page.click(".chat-report summary")
    page.fill("#report-reason", "Asked for my phone number.")
    page.click("#report-submit")
    expect(page.locator("#report-status")).to_contain_text(TEXT[language]["thanks"])
    assert re.search(rf"/chat/{chat.public_id}/$", page.url)
    expect(page.locator("#chat-input")).to_have_value("a message I have not sent yet")
    assert orm(lambda: Report.objects.get(conversation=chat).reason) == "Asked for my phone number."

    page.context.set_offline(True)
    expect(page.locator("#chat-status")).to_contain_text(TEXT[language]["reconnecting"])
    expect(page.locator("#chat-send")).to_be_disabled()
    page.context.set_offline(False)
    expect(page.locator("#chat-input")).to_be_enabled(timeout=15_000)

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#chat-leave")
    expect(page.locator("#chat-ended")).to_be_visible()
    expect(page.locator("#chat-send")).to_be_disabled()
    disabled_look = page.locator("#chat-send").evaluate("b => getComputedStyle(b).backgroundColor")
    assert disabled_look != enabled_look
