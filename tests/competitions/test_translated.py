"""Issue 13: organizer-written text in both languages (criteria labels, onboarding quiz, description, rules,
terms), edited side by side through structured admin fields, shown in the reader's language with a fallback."""

import pytest
from django.urls import reverse
from django.utils import translation

from chat.forms import JudgmentForm, OnboardingForm
from competitions.admin_forms import criteria_from_text, questions_as_text, questions_from_text
from competitions.models import Competition
from competitions.translated import localized, localized_choices
from tests.factories import CompetitionFactory, UserFactory

QUESTION = {
    "question": "What do you judge?",
    "question_ko": "무엇을 판정하나요?",
    "choices": ["Human or bot", "Typing speed"],
    "choices_ko": ["사람인지 봇인지", ""],
    "answer": 0,
}


def test_a_translation_is_used_where_given_and_english_elsewhere():
    assert localized(QUESTION, "question", "ko-kr") == "무엇을 판정하나요?"
    assert localized(QUESTION, "question", "en") == "What do you judge?"
    assert localized({"label": "Fluency", "label_ko": "  "}, "label", "ko") == "Fluency"
    assert localized_choices(QUESTION, "ko") == ["사람인지 봇인지", "Typing speed"]


@translation.override("en")
def test_criteria_lines_become_keys_with_both_labels_and_bad_lines_are_named():
    assert criteria_from_text("fluency | Fluency | 유창성\nengagement | Engagement") == [
        {"key": "fluency", "label": "Fluency", "label_ko": "유창성"},
        {"key": "engagement", "label": "Engagement"},
    ]
    with pytest.raises(Exception) as invalid:
        criteria_from_text("fluency | Fluency\nFluency!\nfluency | Again")
    messages = " ".join(invalid.value.messages)
    assert "Line 2" in messages and "Line 3" in messages


@translation.override("en")
def test_onboarding_blocks_round_trip_and_need_exactly_one_right_answer():
    text = questions_as_text([QUESTION])
    assert text.splitlines()[0] == "What do you judge? | 무엇을 판정하나요?"
    assert text.splitlines()[1].startswith("* Human or bot | 사람인지 봇인지")
    parsed = questions_from_text(text)
    assert parsed[0]["answer"] == 0 and parsed[0]["question_ko"] == "무엇을 판정하나요?"
    with pytest.raises(Exception, match="exactly one"):
        questions_from_text("Pick one\n- a\n- b")
    with pytest.raises(Exception, match="two choices"):
        questions_from_text("Pick one\n* a")


@pytest.mark.django_db
def test_the_admin_edits_criteria_and_quiz_as_text_and_texts_side_by_side(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    competition = CompetitionFactory()
    url = reverse("admin:competitions_competition_change", args=[competition.pk])
    page = client.get(url).content.decode()
    assert 'name="description_ko"' in page and 'name="languages" value="ko"' in page
    assert "human_likeness | Human-likeness" in page
    # The analysis plan's fields come prefilled with the competition's values (the model's defaults here).
    assert 'name="equivalence_margin" value="0.1"' in page and 'name="min_judgments_to_rank" value="30"' in page
    form = {
        "title": competition.title,
        "slug": competition.slug,
        "languages": ["en", "ko"],
        "phase": competition.phase,
        "description": "A test.",
        "description_ko": "시험입니다.",
        "license": "CC BY 4.0",
        "chat_time_limit_seconds": 300,
        "max_turns": 30,
        "min_turns_to_count": 4,
        "max_message_chars": 300,
        "control_chat_share": 0.2,
        "human_partner_wait_seconds": 20,
        "max_chats_per_evaluator_per_bot": 3,
        "max_chats_per_evaluator": 0,
        "leaderboard_publication_hours": 24,
        "leaderboard_bots_per_team": 3,
        "criteria": "fluency | Fluency | 유창성",
        "onboarding_questions": questions_as_text([QUESTION]),
        "evaluator_pool": "open",
        "participant_downloads": "none",
        "equivalence_margin": 0.1,
        "min_judgments_to_rank": 30,
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    competition.refresh_from_db()
    assert competition.criteria == [{"key": "fluency", "label": "Fluency", "label_ko": "유창성"}]
    assert competition.onboarding_questions[0]["choices_ko"] == ["사람인지 봇인지", ""]
    assert competition.description_ko == "시험입니다."
    broken = client.post(url, {**form, "criteria": "Fluency"})
    assert broken.status_code == 200 and "Line 1" in broken.content.decode()


@pytest.mark.django_db
def test_korean_readers_get_korean_texts_and_english_where_none_is_given():
    competition = CompetitionFactory(rules="Be kind.", rules_ko="친절하세요.", terms="Data is released.")
    competition.criteria = [{"key": "fluency", "label": "Fluency", "label_ko": "유창성"}]
    with translation.override("ko"):
        assert competition.localized_rules == "친절하세요."
        assert competition.localized_terms == "Data is released."
        assert JudgmentForm(criteria=competition.criteria).fields["rating_fluency"].label == "유창성"
        quiz = OnboardingForm(questions=[QUESTION])
        assert quiz.fields["q0"].label == "무엇을 판정하나요?"
        assert [label for _value, label in quiz.fields["q0"].choices] == ["사람인지 봇인지", "Typing speed"]
    with translation.override("en"):
        assert competition.localized_rules == "Be kind."
        assert JudgmentForm(criteria=competition.criteria).fields["rating_fluency"].label == "Fluency"


@pytest.mark.django_db
def test_the_competition_page_shows_korean_rules_and_criteria(client):
    competition = CompetitionFactory(
        rules="Be kind.", rules_ko="친절하세요.", description="Chat and judge.", description_ko="채팅하고 판정하세요."
    )
    Competition.objects.filter(pk=competition.pk).update(
        criteria=[{"key": "fluency", "label": "Fluency", "label_ko": "유창성"}]
    )
    page = client.get(competition.get_absolute_url(), headers={"accept-language": "ko"}).content.decode()
    assert "친절하세요." in page and "채팅하고 판정하세요." in page and "유창성" in page
    assert "Be kind." not in page
