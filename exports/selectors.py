"""Reads for export pages and the API."""

from django.db.models import Q, QuerySet

from chat.models import Conversation, Judgment, Message
from competitions.models import Competition, Team
from exports.models import ExportJob


def export_conversations(*, competition: Competition, scope: str, team: Team | None = None) -> QuerySet[Conversation]:
    """The conversations an export of this scope contains: finished chats (for a team: its bots' chats)."""
    conversations = Conversation.objects.filter(competition=competition).exclude(status=Conversation.Status.ACTIVE)
    if scope == ExportJob.Scope.TEAM:
        conversations = conversations.filter(partner_kind="bot", bot__team=team)
    return conversations


def export_row_total(*, competition: Competition, scope: str, team: Team | None = None) -> int:
    """Messages plus judgments an export will write: the denominator of its progress."""
    conversations = export_conversations(competition=competition, scope=scope, team=team)
    return (
        Message.objects.filter(conversation__in=conversations).count()
        + Judgment.objects.filter(conversation__in=conversations).count()
    )


def user_is_team_member(*, user, team: Team) -> bool:
    return user.is_authenticated and team.memberships.filter(user=user).exists()


def public_release_available(*, competition: Competition) -> bool:
    return competition.phase == Competition.Phase.CLOSED and competition.dataset_published


def team_downloads_allowed(*, competition: Competition) -> bool:
    return competition.participant_downloads == Competition.ParticipantDownloads.OWN_CHATS


def export_job_can_view(*, job: ExportJob, user) -> bool:
    """Organizers see every job; a team sees its own; everyone sees the public release once it is published."""
    if user.is_authenticated and user.is_staff:
        return True
    if job.scope == ExportJob.Scope.PUBLIC:
        return public_release_available(competition=job.competition)
    if job.scope == ExportJob.Scope.TEAM:
        return team_downloads_allowed(competition=job.competition) and user_is_team_member(user=user, team=job.team)
    return False


def export_job_can_download(*, job: ExportJob, user) -> bool:
    return job.is_downloadable and export_job_can_view(job=job, user=user)


def teams_user_may_export(*, competition: Competition, user) -> QuerySet[Team]:
    if not user.is_authenticated or not team_downloads_allowed(competition=competition):
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user, bots__competition=competition).distinct()


def export_jobs_for_user(*, competition: Competition, user) -> list[ExportJob]:
    jobs = ExportJob.objects.filter(competition=competition).select_related("competition", "team")
    if user.is_authenticated and user.is_staff:
        return list(jobs[:50])
    visible = Q(pk__in=[])
    if public_release_available(competition=competition):
        visible |= Q(scope=ExportJob.Scope.PUBLIC, status=ExportJob.Status.DONE)
    teams = teams_user_may_export(competition=competition, user=user)
    visible |= Q(scope=ExportJob.Scope.TEAM, team__in=teams)
    return list(jobs.filter(visible)[:50])
