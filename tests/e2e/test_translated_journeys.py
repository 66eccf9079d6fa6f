"""Issue 13, both languages for organizer-written text, in Chromium: a Korean evaluator sees the Korean rules,
terms, onboarding quiz and criteria; an English one sees the English texts."""

import pytest
from playwright.sync_api import expect

from tests.e2e.journeys import keep_screenshot, log_in, open_page
from tests.factories import CompetitionFactory, ConversationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

QUIZ = [
    {
        "question": "What do you judge after the chat?",
        "question_ko": "채팅이 끝나면 무엇을 판정하나요?",
        "choices": ["Whether the partner was a human or a bot", "How fast the partner typed"],
        "choices_ko": ["상대가 사람인지 봇인지", "상대의 타자 속도"],
        "answer": 0,
    }
]
TEXTS = {
    "en": ("Be yourself.", "Chats are released.", "What do you judge after the chat?", "Fluency"),
    "ko": ("자연스럽게 대화하세요.", "채팅은 공개됩니다.", "채팅이 끝나면 무엇을 판정하나요?", "유창성"),
}


def bilingual_competition(username: str):
    competition = CompetitionFactory(
        slug=f"bilingual-{username}",
        rules="Be yourself.",
        rules_ko="자연스럽게 대화하세요.",
        terms="Chats are released.",
        terms_ko="채팅은 공개됩니다.",
        onboarding_questions=QUIZ,
        criteria=[{"key": "fluency", "label": "Fluency", "label_ko": "유창성"}],
        min_turns_to_count=0,
    )
    user = UserFactory(username=username)
    chat = ConversationFactory(competition=competition, evaluator_a=user, status="ended", last_seq=0)
    return competition, chat


@pytest.mark.parametrize("language", ["ko", "en"])
def test_an_evaluator_reads_rules_terms_quiz_and_criteria_in_their_language(browser, asgi_server, orm, language):
    rules, terms, question, criterion = TEXTS[language]
    competition, chat = orm(bilingual_competition, f"reader-{language}")
    page = open_page(browser, asgi_server, language=language)
    log_in(page, f"reader-{language}", "correct-horse-battery")

    page.goto(f"/competitions/{competition.slug}/")
    expect(page.locator("main")).to_contain_text(rules)
    expect(page.locator("main")).to_contain_text(criterion)
    keep_screenshot(page, f"competition-{language}")

    page.goto(f"/evaluate/{competition.slug}/")
    expect(page.locator("#competition-terms")).to_contain_text(terms)
    page.click("#consent-submit")
    expect(page.locator("#question-0 legend")).to_have_text(question)
    keep_screenshot(page, f"onboarding-{language}")

    page.goto(f"/chat/{chat.public_id}/judge/")
    expect(page.locator("#judgment-form")).to_contain_text(criterion)
