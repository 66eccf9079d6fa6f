import pytest

from tests.factories import BotFactory, CompetitionFactory, TeamMembershipFactory, UserFactory


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factories hash a password per user; the production hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def limits_out_of_the_way(settings):
    """Sign-in lockouts, API throttles and the sign-up rate have their own tests (tests/platform/test_limits.py, with
    the production values); elsewhere a test signs in and calls the API as often as it needs, and no counter carries
    over from one test to the next."""
    settings.AXES_ENABLED = False
    settings.API_THROTTLE_RATES = {}
    settings.SIGNUPS_PER_HOUR = 10**6


@pytest.fixture
def competition(db):
    return CompetitionFactory(slug="turing-2026", title="Turing 2026")


@pytest.fixture
def organizer(db):
    return UserFactory(username="olivia", is_staff=True, is_superuser=True)


@pytest.fixture
def participant(db):
    """Pat, owner of team "Lab A"."""
    return TeamMembershipFactory(user__username="pat", team__name="Lab A", team__slug="lab-a").user


@pytest.fixture
def team(participant):
    return participant.teams.get()


@pytest.fixture
def bot(team, competition):
    return BotFactory(team=team, competition=competition, name="alice")


@pytest.fixture
def evaluator_user(db):
    """Eve, an evaluator with no team."""
    return UserFactory(username="eve")
