import pytest
from django.urls import reverse

from competitions.models import Bot, BotCall, Competition, TeamInvitation
from competitions.services import team_invite
from tests.factories import BotFactory, CompetitionFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def bot_url(name, bot):
    return reverse(name, kwargs={"slug": bot.team.slug, "bot_id": bot.pk})


# Competition page


def test_competition_page_renders_markdown_rules_without_scripts(client):
    competition = CompetitionFactory(
        slug="open-2026",
        description="Welcome to **HuLiC**.",
        rules=(
            "## Fair play\n\n<script>alert('pwned')</script>\n\n[click](javascript:alert(1)) and <b onclick=x>bold</b>"
        ),
    )
    response = client.get(reverse("competition-detail", kwargs={"slug": "open-2026"}))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>HuLiC</strong>" in html
    assert "<h2>Fair play</h2>" in html
    assert "<script>alert" not in html and "pwned" not in html
    assert "javascript:" not in html and "onclick" not in html
    assert competition.get_phase_display() in html


def test_competition_page_shows_settings_and_criteria(client, competition):
    html = client.get(competition.get_absolute_url()).content.decode()
    assert "300 seconds" in html and "30 messages" in html
    assert "About 20%" in html
    assert "Human-likeness" in html
    assert 'aria-current="step"' in html


def test_draft_competitions_are_hidden_from_the_public_but_not_from_organizers(client, organizer):
    draft = CompetitionFactory(phase=Competition.Phase.DRAFT)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert draft.title not in client.get(reverse("home")).content.decode()
    client.force_login(organizer)
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_competition_page_lists_the_visitors_own_bots_only(client, participant, bot, competition):
    other = BotFactory(competition=competition, name="stranger-bot")
    client.force_login(participant)
    html = client.get(competition.get_absolute_url()).content.decode()
    assert bot_url("bot-detail", bot) in html
    assert other.name not in html


# Sign-up


def test_signup_logs_in_and_follows_a_local_next_but_not_an_external_one(client):
    data = {
        "username": "newbie",
        "email": "newbie@example.org",
        "password1": "a-long-pass-phrase-42",
        "password2": "a-long-pass-phrase-42",
    }
    response = client.post(reverse("signup") + "?next=/teams/", data)
    assert response.status_code == 302 and response["Location"] == "/teams/"
    client.logout()
    data["username"], data["email"] = "newbie2", "newbie2@example.org"
    response = client.post(reverse("signup") + "?next=https://evil.example/", data)
    assert response["Location"] == reverse("home")


# Teams


def test_team_pages_require_login(client, team):
    for url in [reverse("team-list"), team.get_absolute_url()]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_creating_a_team_from_the_team_list(client, evaluator_user):
    client.force_login(evaluator_user)
    response = client.post(reverse("team-list"), {"name": "Night Owls"})
    assert response.status_code == 302
    team = evaluator_user.teams.get()
    assert response["Location"] == team.get_absolute_url()
    assert "Night Owls" in client.get(reverse("team-list")).content.decode()


def test_a_taken_team_name_is_explained_on_the_form(client, team, evaluator_user):
    client.force_login(evaluator_user)
    response = client.post(reverse("team-list"), {"name": "Lab A"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_members_see_their_team_and_bots_but_others_get_404(client, participant, team, bot):
    client.force_login(participant)
    html = client.get(team.get_absolute_url()).content.decode()
    assert bot.name in html and "pat" in html
    client.force_login(UserFactory())
    assert client.get(team.get_absolute_url()).status_code == 404
    assert client.get(bot_url("bot-detail", bot)).status_code == 404


def test_owner_creates_an_invitation_link_shown_on_the_team_page(client, participant, team):
    client.force_login(participant)
    response = client.post(reverse("team-invite", kwargs={"slug": team.slug}), {"email": ""}, follow=True)
    invitation = TeamInvitation.objects.get(team=team)
    accept_path = reverse("invitation-accept", kwargs={"token": invitation.token})
    assert accept_path in response.content.decode()


def test_a_plain_member_cannot_create_invitations(client, team):
    member = TeamMembershipFactory(team=team, role="member").user
    client.force_login(member)
    response = client.post(reverse("team-invite", kwargs={"slug": team.slug}), {}, follow=True)
    assert not TeamInvitation.objects.exists()
    assert "Only the team" in response.content.decode()


def test_accepting_an_invitation_through_the_page(client, participant, team, evaluator_user):
    invitation = team_invite(team=team, invited_by=participant)
    url = reverse("invitation-accept", kwargs={"token": invitation.token})
    assert client.get(url)["Location"].startswith(reverse("login"))
    client.force_login(evaluator_user)
    assert "Join the team" in client.get(url).content.decode()
    response = client.post(url)
    assert response["Location"] == team.get_absolute_url()
    assert team.has_member(evaluator_user)
    html = client.post(url, follow=True).content.decode()
    assert "already a member" in html


# Bots


def test_registering_a_bot_from_the_team_page(
    client, participant, team, competition, django_capture_on_commit_callbacks
):
    client.force_login(participant)
    url = reverse("bot-register", kwargs={"slug": team.slug})
    assert competition.title in client.get(url).content.decode()
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            url, {"competition": competition.slug, "name": "bob", "endpoint_url": "https://bob.example/turn"}
        )
    bot = Bot.objects.get(name="bob")
    assert response["Location"] == bot_url("bot-detail", bot)
    assert bot.team == team and bot.status == Bot.Status.PENDING
    assert len(callbacks) == 1


def test_bot_registration_errors_are_shown_on_the_form(client, participant, team, competition):
    client.force_login(participant)
    BotFactory(competition=competition, name="bob")
    response = client.post(
        reverse("bot-register", kwargs={"slug": team.slug}),
        {"competition": competition.slug, "name": "bob", "endpoint_url": "https://bob.example/turn"},
    )
    assert response.status_code == 200
    assert "already registered" in response.content.decode()


def test_bot_page_shows_health_secret_versions_and_failure_reasons(client, participant, bot):
    BotCall.objects.create(
        bot=bot, purpose="health", ok=False, failure_kind="bad_json", detail="Expected JSON, got text/html"
    )
    BotCall.objects.create(bot=bot, purpose="turn", ok=True, latency_ms=123.0, status_code=200)
    client.force_login(participant)
    html = client.get(bot_url("bot-detail", bot)).content.decode()
    assert bot.signing_secret in html
    assert "Not valid JSON" in html and "Expected JSON, got text/html" in html
    assert "123 ms" in html
    assert "50%" in html


def test_changing_the_endpoint_from_the_bot_page(client, participant, bot):
    client.force_login(participant)
    response = client.post(
        bot_url("bot-update-endpoint", bot), {"endpoint_url": "https://v2.example/", "note": "new model"}, follow=True
    )
    bot.refresh_from_db()
    assert (bot.version, bot.status, bot.endpoint_url) == (2, Bot.Status.PENDING, "https://v2.example/")
    assert "version 2" in response.content.decode()


def test_rotating_the_secret_from_the_bot_page_shows_the_new_one(client, participant, bot):
    old = bot.signing_secret
    client.force_login(participant)
    response = client.post(bot_url("bot-rotate-secret", bot), follow=True)
    bot.refresh_from_db()
    assert bot.signing_secret != old
    assert bot.signing_secret in response.content.decode()


def test_check_now_from_the_bot_page_queues_a_check(client, participant, bot, django_capture_on_commit_callbacks):
    client.force_login(participant)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(bot_url("bot-check", bot), follow=True)
    assert len(callbacks) == 1
    assert "Health check queued" in response.content.decode()


def test_bot_actions_are_post_only_and_members_only(client, participant, bot):
    client.force_login(participant)
    assert client.get(bot_url("bot-rotate-secret", bot)).status_code == 405
    old = bot.signing_secret
    client.force_login(UserFactory())
    assert client.post(bot_url("bot-rotate-secret", bot)).status_code == 404
    assert client.post(bot_url("bot-update-endpoint", bot), {"endpoint_url": "https://x.example/"}).status_code == 404
    bot.refresh_from_db()
    assert bot.signing_secret == old and bot.version == 1


# API token page


def test_api_token_page_creates_and_replaces_the_token(client, participant):
    client.force_login(participant)
    assert "You have no token yet" in client.get(reverse("api-token")).content.decode()
    client.post(reverse("api-token"))
    first = participant.auth_token.key
    assert first in client.get(reverse("api-token")).content.decode()
    client.post(reverse("api-token"))
    participant.refresh_from_db()
    assert participant.auth_token.key != first
