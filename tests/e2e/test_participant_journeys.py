"""Issue 13, participants in Chromium: a secret rotated on the bot's page keeps the bot answering (both
languages), and the API docs render with the network off (Swagger UI and Redoc served by the project)."""

import pytest
from playwright.sync_api import expect

from competitions.health import bot_health_check
from competitions.models import Bot
from tests.e2e.journeys import keep_screenshot, log_in, open_page
from tests.factories import BotFactory, CompetitionFactory, TeamFactory, TeamMembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
GRACE = {"en": "still signs every request", "ko": "이전 비밀키도 새 비밀키와 함께"}


def team_bot(username: str, port: int, secret: str) -> Bot:
    team = TeamFactory(slug=f"lab-{username}")
    TeamMembershipFactory(team=team, user=UserFactory(username=username))
    return BotFactory(
        team=team,
        competition=CompetitionFactory(),
        name="ELIZA",
        endpoint_url=f"http://127.0.0.1:{port}/",
        signing_secret=secret,
        status=Bot.Status.VERIFIED,
    )


@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_secret_rotated_on_the_bot_page_keeps_the_bot_answering(
    browser, asgi_server, orm, eliza_bot_process, language
):
    port, secret = eliza_bot_process  # the bot process verifies with the secret it was started with
    bot = orm(team_bot, f"owner-{language}", port, secret)
    page = open_page(browser, asgi_server, language=language)
    log_in(page, f"owner-{language}", PASSWORD)
    page.goto(f"/teams/{bot.team.slug}/bots/{bot.pk}/")
    page.click("#rotate-secret")
    expect(page.locator("#secret-grace")).to_contain_text(GRACE[language])
    keep_screenshot(page, f"bot-secret-rotated-{language}")
    assert orm(lambda: Bot.objects.get(pk=bot.pk).signing_secret) != secret
    call = orm(bot_health_check, bot_id=bot.pk)
    assert call.ok, call.detail

    page.click("#rotate-secret-revoke")
    expect(page.locator("#secret-grace")).to_have_count(0)
    refused = orm(bot_health_check, bot_id=bot.pk)
    assert not refused.ok and refused.status_code == 401


@pytest.mark.parametrize(("path", "ready"), [("/api/v1/docs/", ".swagger-ui .info .title"), ("/api/v1/redoc/", "h1")])
def test_the_api_docs_render_with_the_network_off(browser, asgi_server, path, ready):
    page = open_page(browser, asgi_server)
    outside = []

    def only_this_server(route):
        if route.request.url.startswith(asgi_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(path)
    expect(page.locator(ready).first).to_contain_text("HuLiC API", timeout=15_000)
    # Redoc's bundle links its vendor's logo in the footer; nothing else may leave the machine.
    assert [url for url in outside if url != "https://cdn.redoc.ly/redoc/logo-mini.svg"] == []
    keep_screenshot(page, "api-docs" if "docs" in path else "api-redoc")
