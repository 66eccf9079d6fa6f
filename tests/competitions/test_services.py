from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from competitions import services
from competitions.models import Bot, BotVersion, Competition, Team, TeamInvitation, TeamMembership
from competitions.tasks import bot_health_check_task
from tests.factories import BotFactory, CompetitionFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def queued_health_checks(callbacks) -> list[int]:
    """Bot ids whose health check was queued by the captured on-commit callbacks."""
    return [
        callback.args[0] for callback in callbacks if getattr(callback, "func", None) == bot_health_check_task.delay
    ]


# Teams and invitations


def test_team_create_makes_the_creator_owner_and_a_url_safe_slug(evaluator_user):
    team = services.team_create(name="  Deep Thought Lab ", owner=evaluator_user)
    assert team.name == "Deep Thought Lab"
    assert team.slug == "deep-thought-lab"
    assert team.memberships.get().role == TeamMembership.Role.OWNER


def test_team_create_gives_unique_slugs_and_a_fallback_for_non_latin_names(evaluator_user):
    first = services.team_create(name="서울 연구실", owner=evaluator_user)
    second = services.team_create(name="부산 연구실", owner=evaluator_user)
    assert first.slug == "team"
    assert second.slug == "team-2"


def test_team_create_refuses_a_taken_name_whatever_its_case(team, evaluator_user):
    with pytest.raises(services.TeamNameTaken):
        services.team_create(name="LAB a", owner=evaluator_user)
    assert Team.objects.count() == 1


def test_only_the_owner_can_invite(team, participant):
    member = TeamMembershipFactory(team=team, role=TeamMembership.Role.MEMBER).user
    with pytest.raises(services.NotTeamOwner):
        services.team_invite(team=team, invited_by=member)
    invitation = services.team_invite(team=team, invited_by=participant, email="new@example.org")
    assert invitation.is_usable
    assert invitation.expires_at > timezone.now() + timedelta(days=6)


def test_accepting_an_invitation_adds_a_member_once(team, participant, evaluator_user):
    invitation = services.team_invite(team=team, invited_by=participant)
    membership = services.invitation_accept(token=invitation.token, user=evaluator_user)
    assert membership.team == team and membership.role == TeamMembership.Role.MEMBER
    invitation.refresh_from_db()
    assert invitation.accepted_by == evaluator_user and invitation.accepted_at is not None

    with pytest.raises(services.InvitationNotUsable):
        services.invitation_accept(token=invitation.token, user=UserFactory())
    assert team.memberships.count() == 2


def test_an_expired_or_unknown_invitation_is_refused(team, participant, evaluator_user):
    expired = TeamInvitation.objects.create(
        team=team, invited_by=participant, expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(services.InvitationNotUsable):
        services.invitation_accept(token=expired.token, user=evaluator_user)
    with pytest.raises(services.InvitationNotUsable):
        services.invitation_accept(token="no-such-token", user=evaluator_user)
    assert not team.has_member(evaluator_user)


def test_a_member_cannot_use_an_invitation_to_their_own_team(team, participant):
    invitation = services.team_invite(team=team, invited_by=participant)
    with pytest.raises(services.AlreadyTeamMember):
        services.invitation_accept(token=invitation.token, user=participant)
    invitation.refresh_from_db()
    assert invitation.is_usable


# Bots


def test_registering_a_bot_creates_version_1_pending_and_queues_a_health_check(
    team, participant, competition, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        bot = services.bot_register(
            team=team,
            competition=competition,
            name="alice",
            endpoint_url=" https://bots.example.org/alice ",
            created_by=participant,
        )
    assert bot.status == Bot.Status.PENDING
    assert bot.endpoint_url == "https://bots.example.org/alice"
    assert bot.signing_secret.startswith("whsec_")
    version = bot.versions.get()
    assert (version.number, version.endpoint_url, version.created_by) == (1, bot.endpoint_url, participant)
    assert queued_health_checks(callbacks) == [bot.id]


@pytest.mark.parametrize(
    "url",
    ["ftp://bots.example.org/", "javascript:alert(1)", "https://", "https://user:pw@bots.example.org/", "not a url"],
)
def test_registration_refuses_endpoints_that_are_not_plain_http_urls(team, participant, competition, url):
    with pytest.raises(services.InvalidEndpoint):
        services.bot_register(team=team, competition=competition, name="x", endpoint_url=url, created_by=participant)
    assert not Bot.objects.exists()


@pytest.mark.parametrize("phase", [Competition.Phase.DRAFT, Competition.Phase.CLOSED])
def test_registration_is_refused_outside_registration_and_evaluation(team, participant, phase):
    competition = CompetitionFactory(phase=phase)
    with pytest.raises(services.CompetitionNotAcceptingBots):
        services.bot_register(
            team=team, competition=competition, name="x", endpoint_url="https://a.example/", created_by=participant
        )


def test_registration_refuses_a_bot_name_taken_in_the_competition(team, participant, competition):
    BotFactory(competition=competition, name="Alice")
    with pytest.raises(services.BotNameTaken):
        services.bot_register(
            team=team, competition=competition, name="alice", endpoint_url="https://a.example/", created_by=participant
        )


def test_only_team_members_register_bots_for_a_team(team, competition, evaluator_user):
    with pytest.raises(services.NotTeamMember):
        services.bot_register(
            team=team, competition=competition, name="x", endpoint_url="https://a.example/", created_by=evaluator_user
        )


def test_changing_the_endpoint_bumps_the_version_resets_health_and_queues_a_check(
    bot, participant, django_capture_on_commit_callbacks
):
    Bot.objects.filter(pk=bot.pk).update(consecutive_failures=2, last_failure_reason="Timed out")
    bot.refresh_from_db()
    with django_capture_on_commit_callbacks() as callbacks:
        services.bot_update_endpoint(
            bot=bot, endpoint_url="https://new.example/bot", changed_by=participant, note="v2 model"
        )
    assert (bot.version, bot.status, bot.endpoint_url) == (2, Bot.Status.PENDING, "https://new.example/bot")
    assert (bot.consecutive_failures, bot.last_failure_reason) == (0, "")
    latest = bot.versions.order_by("-number").first()
    assert (latest.number, latest.endpoint_url, latest.note, latest.created_by) == (
        2,
        "https://new.example/bot",
        "v2 model",
        participant,
    )
    assert queued_health_checks(callbacks) == [bot.id]


def test_setting_the_same_endpoint_again_changes_nothing(bot, participant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.bot_update_endpoint(bot=bot, endpoint_url=bot.endpoint_url, changed_by=participant)
    bot.refresh_from_db()
    assert (bot.version, bot.status) == (1, Bot.Status.VERIFIED)
    assert not BotVersion.objects.filter(bot=bot).exists()
    assert callbacks == []


def test_an_endpoint_change_does_not_re_enable_a_disabled_bot(bot, participant, django_capture_on_commit_callbacks):
    services.bot_disable(bot=bot)
    with django_capture_on_commit_callbacks() as callbacks:
        services.bot_update_endpoint(bot=bot, endpoint_url="https://new.example/", changed_by=participant)
    assert bot.status == Bot.Status.DISABLED and bot.version == 2
    assert queued_health_checks(callbacks) == []


def test_rotating_returns_the_new_secret_and_stores_it(bot):
    old = bot.signing_secret
    secret = services.bot_rotate_secret(bot=bot)
    assert secret != old and bot.signing_secret == secret
    assert Bot.objects.get(pk=bot.pk).signing_secret == secret


def test_check_now_queues_a_check_but_not_for_a_disabled_bot(bot, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.bot_health_check_request(bot=bot)
    assert queued_health_checks(callbacks) == [bot.id]
    services.bot_disable(bot=bot)
    with pytest.raises(services.BotDisabled):
        services.bot_health_check_request(bot=bot)


def test_enabling_a_disabled_bot_sends_it_back_through_a_health_check(bot, django_capture_on_commit_callbacks):
    services.bot_disable(bot=bot)
    assert bot.status == Bot.Status.DISABLED
    with django_capture_on_commit_callbacks() as callbacks:
        services.bot_enable(bot=bot)
    assert bot.status == Bot.Status.PENDING
    assert queued_health_checks(callbacks) == [bot.id]


def test_enabling_a_bot_that_is_not_disabled_leaves_it_alone(bot, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.bot_enable(bot=bot)
    assert bot.status == Bot.Status.VERIFIED
    assert callbacks == []


# Competition phases


def test_phases_advance_in_order_and_stamp_empty_dates():
    competition = CompetitionFactory(phase=Competition.Phase.DRAFT)
    services.competition_advance_phase(competition=competition)
    assert competition.phase == Competition.Phase.REGISTRATION and competition.registration_opens_at is not None
    services.competition_advance_phase(competition=competition)
    assert competition.phase == Competition.Phase.EVALUATION and competition.evaluation_opens_at is not None
    services.competition_advance_phase(competition=competition)
    competition.refresh_from_db()
    assert competition.phase == Competition.Phase.CLOSED and competition.evaluation_closes_at is not None
    with pytest.raises(services.PhaseTransitionNotAllowed):
        services.competition_advance_phase(competition=competition)


def test_phases_cannot_be_skipped_or_reversed():
    competition = CompetitionFactory(phase=Competition.Phase.REGISTRATION)
    with pytest.raises(services.PhaseTransitionNotAllowed):
        services.competition_set_phase(competition=competition, phase=Competition.Phase.CLOSED)
    with pytest.raises(services.PhaseTransitionNotAllowed):
        services.competition_set_phase(competition=competition, phase=Competition.Phase.DRAFT)
    with pytest.raises(services.PhaseTransitionNotAllowed):
        services.competition_set_phase(competition=competition, phase="bogus")
    competition.refresh_from_db()
    assert competition.phase == Competition.Phase.REGISTRATION


def test_a_preset_date_is_kept_when_the_phase_advances():
    planned = timezone.now() + timedelta(days=3)
    competition = CompetitionFactory(phase=Competition.Phase.REGISTRATION, evaluation_opens_at=planned)
    services.competition_set_phase(competition=competition, phase=Competition.Phase.EVALUATION)
    competition.refresh_from_db()
    assert competition.evaluation_opens_at == planned


# API tokens


def test_regenerating_the_api_token_replaces_the_old_one(participant):
    first = services.api_token_regenerate(user=participant)
    second = services.api_token_regenerate(user=participant)
    assert first.key != second.key
    assert list(Token.objects.filter(user=participant)) == [second]
