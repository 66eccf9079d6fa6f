from datetime import timedelta

import pytest

from competitions.models import Bot
from tests.factories import BotFactory


@pytest.mark.django_db
def test_live_bots_are_the_verified_ones(competition):
    live = BotFactory(competition=competition, status=Bot.Status.VERIFIED)
    BotFactory(competition=competition, status=Bot.Status.PENDING)
    BotFactory(competition=competition, status=Bot.Status.FAILING)
    assert list(Bot.objects.live()) == [live]


@pytest.mark.django_db
def test_rotating_the_secret_changes_it_and_keeps_the_standard_webhooks_prefix(bot):
    old = bot.signing_secret
    new = bot.rotate_secret(grace=timedelta(hours=24))
    bot.refresh_from_db()
    assert new != old and bot.signing_secret == new and new.startswith("whsec_")
    assert bot.secret_rotated_at is not None
