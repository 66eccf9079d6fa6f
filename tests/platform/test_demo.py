import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from competitions.models import Bot, Competition


@pytest.mark.django_db
def test_seeding_the_demo_twice_gives_one_competition_with_its_sample_bots_and_logins():
    call_command("seed_demo")
    call_command("seed_demo")
    competition = Competition.objects.get(slug="turing-demo")
    bots = {bot.name: bot for bot in Bot.objects.filter(competition=competition)}
    assert set(bots) == {"ELIZA", "Jimin"}
    assert bots["ELIZA"].is_baseline and not bots["Jimin"].is_baseline
    assert all(bot.versions.count() == 1 for bot in bots.values())
    organizer = get_user_model().objects.get(username="organizer")
    assert organizer.is_staff and organizer.check_password("hulic-demo")
    assert competition.is_evaluating
