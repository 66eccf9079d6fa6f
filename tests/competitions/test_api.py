import pytest
import yaml
from django.core.cache import cache
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from competitions import api_urls
from competitions.api import HealthCheckThrottle
from competitions.models import Bot, BotCall, Competition, TeamMembership
from competitions.services import team_invite
from tests.factories import BotFactory, CompetitionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(participant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=participant).key}")
    return client


@pytest.fixture
def stranger_api():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=UserFactory()).key}")
    return client


def test_a_token_is_obtained_with_username_and_password(participant):
    response = APIClient().post(
        reverse("api-token-obtain"), {"username": "pat", "password": "correct-horse-battery"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=participant).key

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(reverse("api-team-list")).json() == [
        {"slug": "lab-a", "name": "Lab A", "created_at": client.get(reverse("api-team-list")).json()[0]["created_at"]}
    ]


@pytest.mark.parametrize(
    ("method", "name", "kwargs"),
    [
        ("get", "api-team-list", {}),
        ("post", "api-team-create", {}),
        ("get", "api-bot-list", {}),
        ("post", "api-bot-create", {}),
        ("get", "api-bot-detail", {"bot_id": 1}),
        ("post", "api-bot-rotate-secret", {"bot_id": 1}),
        ("post", "api-bot-check", {"bot_id": 1}),
        ("get", "api-bot-health", {"bot_id": 1}),
    ],
)
def test_anonymous_requests_get_401(method, name, kwargs):
    response = getattr(APIClient(), method)(reverse(name, kwargs=kwargs))
    assert response.status_code == 401


def test_competition_list_hides_drafts(api, competition):
    CompetitionFactory(phase=Competition.Phase.DRAFT, slug="secret-draft")
    slugs = [row["slug"] for row in api.get(reverse("api-competition-list")).json()]
    assert slugs == ["turing-2026"]


def test_team_create_and_detail_round_trip(api, participant):
    response = api.post(reverse("api-team-create"), {"name": "Second Lab"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "second-lab"
    assert body["members"] == [{"username": "pat", "role": "owner", "joined_at": body["members"][0]["joined_at"]}]
    detail = api.get(reverse("api-team-detail", kwargs={"slug": "second-lab"})).json()
    assert detail["name"] == "Second Lab"
    assert api.post(reverse("api-team-create"), {"name": "second lab"}, format="json").status_code == 409


def test_invitation_round_trip(api, team, stranger_api):
    response = api.post(reverse("api-invitation-create", kwargs={"slug": team.slug}), {}, format="json")
    assert response.status_code == 201
    accept_url = response.json()["accept_url"]
    assert accept_url.startswith("http://testserver/api/v1/invitations/")

    assert stranger_api.post(accept_url).status_code == 200
    assert stranger_api.get(reverse("api-team-detail", kwargs={"slug": team.slug})).status_code == 200
    assert stranger_api.post(accept_url).status_code == 409
    assert APIClient().post(accept_url).status_code == 401


def test_a_used_invitation_answers_410(team, participant, stranger_api):
    invitation = team_invite(team=team, invited_by=participant)
    url = reverse("api-invitation-accept", kwargs={"token": invitation.token})
    assert stranger_api.post(url).status_code == 200
    late = APIClient()
    late.force_authenticate(UserFactory())
    response = late.post(url)
    assert response.status_code == 410 and "expired" in response.json()["detail"]


def test_members_who_are_not_owners_get_403_on_invitations(team):
    member = UserFactory()
    TeamMembership.objects.create(team=team, user=member, role=TeamMembership.Role.MEMBER)
    client = APIClient()
    client.force_authenticate(member)
    response = client.post(reverse("api-invitation-create", kwargs={"slug": team.slug}), {}, format="json")
    assert response.status_code == 403 and "owner" in response.json()["detail"]


def test_bot_create_returns_the_secret_and_queues_a_check(api, team, competition, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(
            reverse("api-bot-create"),
            {"team": "lab-a", "competition": "turing-2026", "name": "carol", "endpoint_url": "https://c.example/"},
            format="json",
        )
    assert response.status_code == 201
    body = response.json()
    bot = Bot.objects.get(pk=body["id"])
    assert body["signing_secret"] == bot.signing_secret
    assert (body["status"], body["version"], body["team"], body["competition"]) == (
        "pending",
        1,
        "lab-a",
        "turing-2026",
    )
    assert [callback.args for callback in callbacks] == [(bot.id,)]


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"team": "nope", "competition": "turing-2026"}, 400, "team"),
        ({"team": "lab-a", "competition": "nope"}, 400, "competition"),
        ({"team": "lab-a", "competition": "turing-2026", "endpoint_url": "ftp://x.example/"}, 400, "endpoint_url"),
    ],
)
def test_bot_create_validation_errors_name_the_field(api, competition, payload, status, field):
    data = {"name": "dave", "endpoint_url": "https://d.example/", **payload}
    response = api.post(reverse("api-bot-create"), data, format="json")
    assert response.status_code == status
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]


def test_bot_create_in_a_closed_competition_answers_409(api, team):
    CompetitionFactory(slug="old", phase=Competition.Phase.CLOSED)
    response = api.post(
        reverse("api-bot-create"),
        {"team": "lab-a", "competition": "old", "name": "x", "endpoint_url": "https://x.example/"},
        format="json",
    )
    assert response.status_code == 409 and "does not accept bots" in response.json()["detail"]


def test_bot_create_for_another_teams_slug_is_refused(stranger_api, team, competition):
    response = stranger_api.post(
        reverse("api-bot-create"),
        {"team": "lab-a", "competition": "turing-2026", "name": "x", "endpoint_url": "https://x.example/"},
        format="json",
    )
    assert response.status_code == 400
    assert not Bot.objects.exists()


def test_bot_list_shows_only_my_bots_and_filters(api, bot, competition):
    BotFactory(competition=competition, name="someone-elses")
    other_competition_bot = BotFactory(team=bot.team, name="zed")
    names = [row["name"] for row in api.get(reverse("api-bot-list")).json()]
    assert sorted(names) == ["alice", "zed"]
    filtered = api.get(reverse("api-bot-list"), {"competition": "turing-2026"}).json()
    assert [row["name"] for row in filtered] == ["alice"]
    assert other_competition_bot.competition.slug != "turing-2026"


def test_endpoint_update_round_trip(api, bot):
    response = api.post(
        reverse("api-bot-update-endpoint", kwargs={"bot_id": bot.pk}),
        {"endpoint_url": "https://v2.example/", "note": "bigger model"},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["version"], response.json()["status"]) == (2, "pending")
    health = api.get(reverse("api-bot-health", kwargs={"bot_id": bot.pk})).json()
    assert health["versions"][0] == {
        "number": 2,
        "endpoint_url": "https://v2.example/",
        "note": "bigger model",
        "created_at": health["versions"][0]["created_at"],
    }


def test_rotate_secret_returns_the_new_secret(api, bot):
    old = bot.signing_secret
    response = api.post(reverse("api-bot-rotate-secret", kwargs={"bot_id": bot.pk}))
    bot.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["signing_secret"] == bot.signing_secret != old


def test_check_answers_202_and_queues(api, bot, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(reverse("api-bot-check", kwargs={"bot_id": bot.pk}))
    assert response.status_code == 202 and response.json()["queued"] is True
    assert [callback.args for callback in callbacks] == [(bot.id,)]


def test_check_on_a_disabled_bot_answers_409(api, bot):
    Bot.objects.filter(pk=bot.pk).update(status=Bot.Status.DISABLED)
    response = api.post(reverse("api-bot-check", kwargs={"bot_id": bot.pk}))
    assert response.status_code == 409 and "disabled" in response.json()["detail"]


def test_health_shows_recent_calls_with_failure_reasons(api, bot):
    BotCall.objects.create(bot=bot, purpose="turn", ok=False, failure_kind="timeout", detail="No reply within 10 s")
    health = api.get(reverse("api-bot-health", kwargs={"bot_id": bot.pk})).json()
    assert health["status"] == "verified"
    assert health["success_rate"] == 0.0
    call = health["recent_calls"][0]
    assert (call["failure_kind"], call["failure_label"], call["detail"]) == (
        "timeout",
        "Timed out",
        "No reply within 10 s",
    )


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "api-bot-detail"),
        ("get", "api-bot-health"),
        ("post", "api-bot-rotate-secret"),
        ("post", "api-bot-check"),
        ("post", "api-bot-update-endpoint"),
    ],
)
def test_another_teams_bot_is_404(stranger_api, bot, method, name):
    old_secret = bot.signing_secret
    response = getattr(stranger_api, method)(
        reverse(name, kwargs={"bot_id": bot.pk}), {"endpoint_url": "https://evil.example/"}, format="json"
    )
    assert response.status_code == 404
    bot.refresh_from_db()
    assert (bot.signing_secret, bot.endpoint_url) == (old_secret, "http://127.0.0.1:9/")


def test_another_teams_detail_is_404(stranger_api, team):
    assert stranger_api.get(reverse("api-team-detail", kwargs={"slug": team.slug})).status_code == 404
    assert stranger_api.post(reverse("api-invitation-create", kwargs={"slug": team.slug})).status_code == 404


# OpenAPI


def test_schema_endpoint_and_docs_answer(api):
    schema = api.get(reverse("api-schema"))
    assert schema.status_code == 200
    document = yaml.safe_load(schema.content)
    validate_schema(document)
    assert "/api/v1/bots/{bot_id}/rotate-secret/" in document["paths"]
    assert api.get(reverse("api-docs")).status_code == 200


def test_this_apps_schema_validates_without_warnings(capsys):
    """The equivalent of `manage.py spectacular --validate --fail-on-warn`, for this app's endpoints."""
    from drf_spectacular.drainage import GENERATOR_STATS

    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=api_urls.urlpatterns)
    document = generator.get_schema(request=None, public=True)
    validate_schema(document)
    assert not GENERATOR_STATS, capsys.readouterr().err
    assert {"/auth/token/", "/bots/create/", "/bots/{bot_id}/health/"} <= set(document["paths"])


@pytest.mark.usefixtures("eager_tasks")
def test_a_bot_registered_through_the_api_goes_live_once_its_queued_check_passes(
    api, team, competition, loopback_bot, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            reverse("api-bot-create"),
            {"team": "lab-a", "competition": "turing-2026", "name": "live", "endpoint_url": loopback_bot.url("/ok")},
            format="json",
        )
    assert response.json()["status"] == "pending"
    health = api.get(reverse("api-bot-health", kwargs={"bot_id": response.json()["id"]})).json()
    assert health["status"] == "verified"
    assert [(call["purpose"], call["ok"]) for call in health["recent_calls"]] == [("health", True)]
    assert loopback_bot.requests[0].headers["webhook-signature"].startswith("v1,")


@pytest.fixture
def empty_cache():
    """Throttle history lives in the cache; start and leave it empty so other tests are not throttled."""
    cache.clear()
    yield
    cache.clear()


@pytest.mark.usefixtures("empty_cache")
def test_check_requests_are_throttled_per_user(api, bot, django_capture_on_commit_callbacks):
    url = reverse("api-bot-check", kwargs={"bot_id": bot.pk})
    with django_capture_on_commit_callbacks() as callbacks:
        statuses = [api.post(url).status_code for _ in range(HealthCheckThrottle.rate_limit + 1)]
    assert statuses[:-1] == [202] * HealthCheckThrottle.rate_limit
    assert statuses[-1] == 429
    assert len(callbacks) == HealthCheckThrottle.rate_limit
