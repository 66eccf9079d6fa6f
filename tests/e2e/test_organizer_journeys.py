"""Issue 13, organizers and the public in Chromium: the leaderboard fits 1,280 px (no sideways scrolling, the
baseline label inside the chart) in both languages, and a chat's facts are read-only in the admin."""

import pytest
from playwright.sync_api import expect

from chat.models import Evaluator
from competitions.models import BotCall
from leaderboard.services import competition_recompute
from tests.e2e.journeys import keep_screenshot, log_in, open_page
from tests.factories import BotFactory, CompetitionFactory, EvaluatorFactory, UserFactory
from tests.leaderboard.conftest import judge_bot, judge_human

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def closed_competition_with_scores():
    # Factory chats have no messages, so the declared response-pattern rules would find every evaluator "silent"
    # and exclude them all (no rates, no baseline, no chart): this page's layout is tested with nobody excluded.
    competition = CompetitionFactory(slug="final", phase="closed", exclusion_rules={"exclude": []})
    judges = [UserFactory(username=f"judge{i}") for i in range(4)]
    for judge in judges:
        EvaluatorFactory(competition=competition, user=judge, status=Evaluator.Status.ACTIVE)
    names = ["A rather long bot name for layout", "Jimin", "ELIZA", "Never checked"]
    for index, name in enumerate(names):
        bot = BotFactory(competition=competition, name=name, is_baseline=name == "ELIZA")
        if name != "Never checked":
            BotCall.objects.create(bot=bot, purpose=BotCall.Purpose.HEALTH, ok=True)
        for i in range(12):
            ratings = dict.fromkeys(competition.criteria_keys, 1 + (i + index) % 5)
            judge_bot(
                bot=bot, evaluator=judges[i % 4], verdict="human" if i < 3 + 3 * index else "bot", ratings=ratings
            )
    for i in range(8):
        judge_human(competition=competition, evaluator=judges[i % 4], partner=judges[(i + 1) % 4], verdict="human")
    competition_recompute(competition_id=competition.pk)
    return competition


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_public_leaderboard_fits_1280_pixels_and_lists_checked_bots_only(browser, asgi_server, orm, language):
    competition = orm(closed_competition_with_scores)
    page = open_page(browser, asgi_server, language=language, width=1280)
    page.goto(f"/c/{competition.slug}/leaderboard/")
    table = page.locator(".lb-table-wrap")
    expect(table).to_be_visible()
    assert table.evaluate("element => element.scrollWidth <= element.clientWidth"), "the table scrolls sideways"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    label = page.locator(".lb-baseline-label")
    chart = page.locator(".lb-chart")
    inside = (
        label.bounding_box()["x"] + label.bounding_box()["width"]
        <= chart.bounding_box()["x"] + chart.bounding_box()["width"]
    )
    assert inside and label.bounding_box()["x"] >= chart.bounding_box()["x"], "the baseline label is cut off"
    expect(page.locator(".lb-table")).not_to_contain_text("Never checked")
    keep_screenshot(page, f"leaderboard-1280-{language}")


def test_a_chats_facts_are_read_only_in_the_admin(browser, asgi_server, orm):
    competition = orm(closed_competition_with_scores)
    orm(UserFactory, username="olga", is_staff=True, is_superuser=True)
    chat_id = orm(lambda: competition.conversations.first().pk)
    page = open_page(browser, asgi_server)
    log_in(page, "olga", "correct-horse-battery")
    page.goto(f"/admin/chat/conversation/{chat_id}/change/")
    expect(page.locator("select[name=partner_kind], select[name=status]")).to_have_count(0)
    expect(page.locator("input[type=submit][name=_save]")).to_have_count(0)
    keep_screenshot(page, "admin-conversation-read-only")


def test_the_control_room_has_its_own_admin_place_a_visible_link_and_styled_buttons(browser, asgi_server, orm):
    competition = orm(closed_competition_with_scores)
    orm(UserFactory, username="olga", is_staff=True, is_superuser=True)
    page = open_page(browser, asgi_server, width=1280)
    log_in(page, "olga", "correct-horse-battery")
    page.goto("/admin/")
    expect(page.locator("#content-main .app-controlroom")).to_be_visible()
    page.goto("/admin/competitions/competition/")
    link = page.locator(f'a[href="/admin/controlroom/controlroom/{competition.pk}/room/"]')
    box = link.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280, "the control room link is clipped"
    link.click()
    button = page.locator(".control-room button[value=recompute]")
    expect(button).to_be_visible()
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") not in ("rgba(0, 0, 0, 0)", "rgb(239, 239, 239)")
    keep_screenshot(page, "control-room")
