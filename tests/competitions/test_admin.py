import pytest
from django.urls import reverse

from competitions.admin import SYNC_HEALTH_CHECK_LIMIT
from competitions.models import Bot, BotCall, BotVersion, Competition
from tests.factories import BotFactory, CompetitionFactory, TeamMembershipFactory

pytestmark = pytest.mark.django_db

BOT_CHANGELIST = reverse("admin:competitions_bot_changelist")


@pytest.fixture
def admin_client(client, organizer):
    client.force_login(organizer)
    return client


def run_action(client, changelist_url, action, objects):
    return client.post(changelist_url, {"action": action, "_selected_action": [obj.pk for obj in objects]}, follow=True)


def test_admin_pages_render_for_every_model(admin_client, bot, competition):
    BotCall.objects.create(bot=bot, purpose="health", ok=False, failure_kind="timeout", detail="No reply in 10 s")
    BotVersion.objects.create(bot=bot, number=1, endpoint_url=bot.endpoint_url)
    urls = [
        reverse("admin:competitions_competition_changelist"),
        reverse("admin:competitions_competition_change", args=[competition.pk]),
        reverse("admin:competitions_competition_add"),
        reverse("admin:competitions_team_changelist"),
        reverse("admin:competitions_team_change", args=[bot.team.pk]),
        BOT_CHANGELIST,
        reverse("admin:competitions_bot_change", args=[bot.pk]),
        reverse("admin:competitions_bot_add"),
        reverse("admin:competitions_botcall_changelist"),
    ]
    for url in urls:
        assert admin_client.get(url).status_code == 200, url
    competition_page = admin_client.get(urls[1]).content.decode()
    assert "Phase and dates" in competition_page and "So that no evaluator" in competition_page
    bot_page = admin_client.get(reverse("admin:competitions_bot_change", args=[bot.pk])).content.decode()
    assert "No reply in 10 s" in bot_page and "Timed out" in bot_page
    competition_list = admin_client.get(urls[0]).content.decode()
    assert reverse("admin:controlroom_controlroom_room", args=[competition.pk]) in competition_list


def test_bot_list_filters_and_search(admin_client, bot):
    other = BotFactory(name="zebra", status=Bot.Status.FAILING)
    bot_link = reverse("admin:competitions_bot_change", args=[bot.pk])
    other_link = reverse("admin:competitions_bot_change", args=[other.pk])
    failing = admin_client.get(BOT_CHANGELIST, {"status__exact": "failing"}).content.decode()
    assert other_link in failing and bot_link not in failing
    found = admin_client.get(BOT_CHANGELIST, {"q": "Lab A"}).content.decode()
    assert bot_link in found and other_link not in found


def test_disable_and_enable_actions(admin_client, bot, django_capture_on_commit_callbacks):
    run_action(admin_client, BOT_CHANGELIST, "disable_bots", [bot])
    bot.refresh_from_db()
    assert bot.status == Bot.Status.DISABLED
    with django_capture_on_commit_callbacks() as callbacks:
        response = run_action(admin_client, BOT_CHANGELIST, "enable_bots", [bot])
    bot.refresh_from_db()
    assert bot.status == Bot.Status.PENDING
    assert [callback.args for callback in callbacks] == [(bot.id,)]
    assert "1 bot enabled" in response.content.decode()


def test_rotate_secret_action(admin_client, bot):
    old = bot.signing_secret
    response = run_action(admin_client, BOT_CHANGELIST, "rotate_secrets", [bot])
    bot.refresh_from_db()
    assert bot.signing_secret != old and bot.secret_rotated_at is not None
    assert "1 secret rotated" in response.content.decode()


def test_health_check_now_probes_the_bots_and_shows_failure_reasons(admin_client, competition, loopback_bot):
    healthy = BotFactory(competition=competition, endpoint_url=loopback_bot.url("/ok"), status=Bot.Status.PENDING)
    broken = BotFactory(competition=competition, endpoint_url=loopback_bot.url("/garbage"), status=Bot.Status.PENDING)
    response = run_action(admin_client, BOT_CHANGELIST, "health_check_now", [healthy, broken])
    healthy.refresh_from_db()
    broken.refresh_from_db()
    assert healthy.status == Bot.Status.VERIFIED
    assert broken.status == Bot.Status.PENDING and broken.consecutive_failures == 1
    html = response.content.decode()
    assert "1 passed, 1 failed" in html
    assert "Not valid JSON" in html
    assert [call.failure_kind for call in BotCall.objects.filter(bot=broken)] == ["bad_json"]


def test_health_check_now_queues_instead_of_waiting_for_many_bots(
    admin_client, competition, django_capture_on_commit_callbacks
):
    bots = BotFactory.create_batch(SYNC_HEALTH_CHECK_LIMIT + 1, competition=competition)
    with django_capture_on_commit_callbacks() as callbacks:
        response = run_action(admin_client, BOT_CHANGELIST, "health_check_now", bots)
    assert sorted(callback.args[0] for callback in callbacks) == sorted(bot.pk for bot in bots)
    assert not BotCall.objects.exists()
    assert f"{len(bots)} health checks queued" in response.content.decode()


def test_health_check_now_skips_disabled_bots(admin_client, bot):
    Bot.objects.filter(pk=bot.pk).update(status=Bot.Status.DISABLED)
    run_action(admin_client, BOT_CHANGELIST, "health_check_now", [bot])
    assert not BotCall.objects.exists()


def test_advance_phase_action_moves_one_step_and_reports_a_closed_competition(admin_client):
    draft = CompetitionFactory(phase=Competition.Phase.DRAFT)
    closed = CompetitionFactory(phase=Competition.Phase.CLOSED)
    response = run_action(
        admin_client, reverse("admin:competitions_competition_changelist"), "advance_phase", [draft, closed]
    )
    draft.refresh_from_db()
    closed.refresh_from_db()
    assert draft.phase == Competition.Phase.REGISTRATION and closed.phase == Competition.Phase.CLOSED
    assert "already closed" in response.content.decode()


def test_phase_is_read_only_on_an_existing_competition(admin_client, competition):
    html = admin_client.get(reverse("admin:competitions_competition_change", args=[competition.pk])).content.decode()
    assert 'name="phase"' not in html
    assert 'name="phase"' in admin_client.get(reverse("admin:competitions_competition_add")).content.decode()


def bot_form_data(bot, **changes):
    data = {
        "name": bot.name,
        "team": bot.team.pk,
        "competition": bot.competition.pk,
        "endpoint_url": bot.endpoint_url,
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
        "versions-MIN_NUM_FORMS": "0",
        "versions-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_changing_the_endpoint_in_admin_records_a_version_and_queues_a_check(
    admin_client, bot, django_capture_on_commit_callbacks
):
    url = reverse("admin:competitions_bot_change", args=[bot.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(url, bot_form_data(bot, endpoint_url="https://moved.example/"))
    assert response.status_code == 302
    bot.refresh_from_db()
    assert (bot.endpoint_url, bot.version, bot.status) == ("https://moved.example/", 2, Bot.Status.PENDING)
    assert bot.versions.get(number=2).created_by.username == "olivia"
    assert [callback.args for callback in callbacks] == [(bot.id,)]


def test_adding_a_baseline_bot_in_admin_records_version_1(admin_client, team, competition):
    data = bot_form_data(
        Bot(name="eliza", team=team, competition=competition, endpoint_url="https://eliza.example/"), is_baseline="on"
    )
    response = admin_client.post(reverse("admin:competitions_bot_add"), data)
    assert response.status_code == 302
    bot = Bot.objects.get(name="eliza")
    assert bot.is_baseline and bot.status == Bot.Status.PENDING
    assert list(bot.versions.values_list("number", flat=True)) == [1]


def test_team_admin_shows_members_and_bots_inline(admin_client, bot):
    TeamMembershipFactory(team=bot.team, user__username="sam", role="member")
    html = admin_client.get(reverse("admin:competitions_team_change", args=[bot.team.pk])).content.decode()
    assert "sam" in html and bot.name in html


def test_non_staff_cannot_reach_the_admin(client, participant):
    client.force_login(participant)
    response = client.get(BOT_CHANGELIST)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
