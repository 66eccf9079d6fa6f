"""Issue 13, participants: a secret rotation keeps the bot answering for a grace period (Standard Webhooks'
several signatures), and a new bot is checked again soon after registration."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from competitions import services, signing
from competitions.health import bot_health_check
from competitions.models import Bot, BotCall, BotVersion
from competitions.tasks import bot_health_check_task, bot_health_recheck_task
from tests.competitions.botserver import (
    TEST_SECRET,
    allow_loopback_fixture,  # noqa: F401 -- fixture
    sample_bot_server,
)
from tests.factories import BotFactory

pytestmark = pytest.mark.django_db


def test_headers_signed_with_two_secrets_verify_with_either():
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
    body = b'{"hello": "bot"}'
    headers = signing.signed_headers(secret=TEST_SECRET, body=body, also_secrets=[other])
    assert len(headers["webhook-signature"].split()) == 2
    signing.verify(secret=TEST_SECRET, headers=headers, body=body)
    signing.verify(secret=other, headers=headers, body=body)
    with pytest.raises(signing.WebhookVerificationError):
        signing.verify(secret=TEST_SECRET, headers=headers, body=b'{"hello": "tampered"}')


def test_the_old_secret_signs_during_the_grace_period_only(bot, settings):
    settings.BOT_SECRET_GRACE_HOURS = 24
    old = bot.signing_secret
    services.bot_rotate_secret(bot=bot)
    assert bot.signing_secret != old
    assert bot.previous_secret_in_grace() == old
    later = bot.previous_secret_valid_until + timedelta(seconds=1)
    assert bot.previous_secret_in_grace(now=later) == ""
    assert bot.previous_secret_valid_until - bot.secret_rotated_at == timedelta(hours=24)


def test_rotating_again_drops_the_oldest_secret_and_revoking_drops_the_old_one_at_once(bot):
    first = bot.signing_secret
    services.bot_rotate_secret(bot=bot)
    second = bot.signing_secret
    services.bot_rotate_secret(bot=bot)
    assert bot.previous_secret_in_grace() == second != first
    services.bot_rotate_secret(bot=bot, revoke_old=True)
    assert bot.previous_secret_in_grace() == "" and bot.previous_secret_valid_until is None


def test_a_zero_grace_setting_ends_the_old_secret_at_once(bot, settings):
    settings.BOT_SECRET_GRACE_HOURS = 0
    services.bot_rotate_secret(bot=bot)
    assert bot.previous_secret_in_grace() == ""


@pytest.mark.usefixtures("allow_loopback")
def test_a_rotation_keeps_a_bot_verifying_with_its_old_secret_answering_until_the_grace_ends(bot):
    bot.signing_secret = TEST_SECRET
    bot.save(update_fields=["signing_secret"])
    with sample_bot_server("eliza", "eliza_reply", secret=TEST_SECRET) as url:
        bot.endpoint_url = url
        bot.save(update_fields=["endpoint_url"])
        services.bot_rotate_secret(bot=bot)
        assert bot_health_check(bot_id=bot.id).ok
        Bot.objects.filter(pk=bot.pk).update(previous_secret_valid_until=timezone.now() - timedelta(seconds=1))
        expired = bot_health_check(bot_id=bot.id)
    assert not expired.ok and expired.status_code == 401


def test_the_bot_page_and_the_api_say_until_when_the_old_secret_works(client, participant, bot):
    api = APIClient()
    api.force_authenticate(participant)
    client.force_login(participant)
    url = reverse("bot-rotate-secret", kwargs={"slug": bot.team.slug, "bot_id": bot.pk})
    page = client.post(url, follow=True).content.decode()
    assert 'id="secret-grace"' in page and "keeps working until" in page
    answer = api.post(reverse("api-bot-rotate-secret", kwargs={"bot_id": bot.pk}))
    assert answer.json()["previous_secret_valid_until"] is not None
    revoked = api.post(reverse("api-bot-rotate-secret", kwargs={"bot_id": bot.pk}), {"revoke_old": True}, format="json")
    assert revoked.json()["previous_secret_valid_until"] is None


@pytest.fixture
def failing_checks(monkeypatch):
    monkeypatch.setattr("competitions.tasks.bot_health_check", lambda bot_id: BotCall(ok=False))
    queued = []
    monkeypatch.setattr(
        bot_health_recheck_task, "apply_async", lambda args, countdown: queued.append((args, countdown))
    )
    return queued


def test_a_failed_first_check_of_a_new_bot_is_followed_by_checks_soon_after(
    team, participant, competition, settings, failing_checks
):
    settings.BOT_FIRST_CHECK_RETRY_SECONDS = (30, 90)
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a real broker (the apply_async calls are recorded instead)
    bot = services.bot_register(
        team=team, competition=competition, name="late", endpoint_url="https://bot.example.org/", created_by=participant
    )
    bot_health_check_task(bot.id)
    assert failing_checks == [((bot.id, 1), 30), ((bot.id, 1), 90)]


def test_a_failed_check_of_an_old_version_or_under_eager_celery_queues_no_follow_ups(bot, settings, failing_checks):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    BotVersion.objects.create(bot=bot, number=bot.version, endpoint_url=bot.endpoint_url)
    BotVersion.objects.filter(bot=bot).update(created_at=timezone.now() - timedelta(minutes=5))
    bot_health_check_task(bot.id)  # beat's regular round
    assert failing_checks == []
    BotVersion.objects.filter(bot=bot).update(created_at=timezone.now())
    settings.CELERY_TASK_ALWAYS_EAGER = True
    bot_health_check_task(bot.id)
    assert failing_checks == []


def test_a_follow_up_check_runs_only_while_that_version_is_not_live(competition, monkeypatch):
    checked = []
    monkeypatch.setattr("competitions.tasks.bot_health_check", lambda bot_id: checked.append(bot_id))
    pending = BotFactory(competition=competition, status=Bot.Status.PENDING, version=2)
    live = BotFactory(competition=competition, status=Bot.Status.VERIFIED)
    bot_health_recheck_task(pending.id, 1)  # an older version: its endpoint has changed since
    bot_health_recheck_task(live.id, live.version)
    bot_health_recheck_task(pending.id, 2)
    assert checked == [pending.id]
