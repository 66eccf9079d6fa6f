"""Endpoint URLs with characters that are not valid in a URL are refused by the service: API, pages and admin."""

import pytest
from django.urls import reverse
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from competitions import services
from competitions.models import Bot
from tests.competitions.test_admin import bot_form_data
from tests.competitions.test_pages import bot_url


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


INVALID = [
    'https://example.com/b2?"><svg/onload=alert(1)>',
    "https://example.com/it's",
    "https://example.com/a b",
    "https://example.com/a\\b",
    "https://example.com/{x}|^`",
    "https://example.com/%zz",
    "https://example.com/\x00",
    "https://example.com/tab\there",
    "https://bücher.example/",
]


@pytest.mark.parametrize("url", INVALID)
def test_the_service_refuses_characters_that_are_not_valid_in_a_url(url):
    with pytest.raises(services.InvalidEndpoint) as refused:
        services.endpoint_url_check(url)
    assert "not allowed in a URL" in str(refused.value.message)


@pytest.mark.parametrize(
    "url",
    [
        "https://bots.example.org/turn?model=v2&temp=0.7",
        "https://bots.example.org/a%20b/~me/(x)*+,;=:@!$",
        "http://[::1]:8080/path#frag",
        "https://xn--bcher-kva.example/",
        "  https://bots.example.org/  ",
    ],
)
def test_valid_urls_still_pass(url):
    assert services.endpoint_url_check(url) == url.strip()


def test_the_message_names_the_characters():
    with pytest.raises(services.InvalidEndpoint) as refused:
        services.endpoint_url_check('https://example.com/?"<> x')
    assert str(refused.value.message).startswith(
        'The endpoint URL contains characters that are not allowed in a URL: U+0020 " < >.'
    )


def test_the_api_refuses_them_with_a_400_naming_the_field(participant, team, competition):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=participant).key}")
    response = api.post(
        reverse("api-bot-create"),
        {"team": team.slug, "competition": competition.slug, "name": "x", "endpoint_url": INVALID[0]},
        format="json",
    )
    assert response.status_code == 400
    assert "not allowed in a URL" in str(response.json())
    assert not Bot.objects.exists()


def test_the_bot_page_refuses_them(client, participant, bot):
    client.force_login(participant)
    response = client.post(bot_url("bot-update-endpoint", bot), {"endpoint_url": INVALID[0]}, follow=True)
    bot.refresh_from_db()
    assert bot.version == 1 and bot.endpoint_url != INVALID[0]
    assert "not allowed in a URL" in response.content.decode()


def test_the_admin_refuses_them_on_add_and_on_change(admin_client, bot, team, competition):
    change = admin_client.post(
        reverse("admin:competitions_bot_change", args=[bot.pk]), bot_form_data(bot, endpoint_url=INVALID[0])
    )
    added = admin_client.post(
        reverse("admin:competitions_bot_add"),
        bot_form_data(Bot(name="evil", team=team, competition=competition, endpoint_url=INVALID[0])),
    )
    bot.refresh_from_db()
    assert change.status_code == added.status_code == 200  # the form again, with the error
    assert "not allowed in a URL" in change.content.decode()
    assert (bot.version, Bot.objects.count()) == (1, 1)
