"""Reads for export pages, the API and the control room."""

from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from chat.models import Conversation, Game, GameRequest, Judgment, MatchRequest, Message, Report
from competitions.models import Bot, BotCall, Competition, Team
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


def judgments_per_hour(*, competition: Competition, hours: int = 24, now: datetime | None = None) -> list[tuple]:
    """[(hour start, count)] for the last `hours` full and current hours, zeros included."""
    now = now or timezone.now()
    current = now.replace(minute=0, second=0, microsecond=0)
    first = current - timedelta(hours=hours - 1)
    counted = dict(
        Judgment.objects.filter(competition=competition, created_at__gte=first)
        .annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(n=Count("id"))
        .values_list("hour", "n")
    )
    return [(first + timedelta(hours=i), counted.get(first + timedelta(hours=i), 0)) for i in range(hours)]


def last_recompute_at(*, competition: Competition) -> datetime | None:
    """The leaderboard's last computation, read lazily from its app; None shows as "never"."""
    try:
        from leaderboard.selectors import leaderboard_snapshot
    except ImportError:
        return None
    snapshot = leaderboard_snapshot(competition=competition)
    return snapshot.computed_at if snapshot else None


def flagged_evaluators(*, competition: Competition) -> list:
    """Evaluators the leaderboard's response-pattern rules flag, with their evidence (at most 50, most judgments
    first). The rules are the competition's analysis plan; whether a flag excludes is the plan's, not a person's."""
    from leaderboard.selectors import flagged_evaluators as leaderboard_flagged

    return list(leaderboard_flagged(competition=competition)[:50])


def control_room_snapshot(*, competition: Competition) -> dict:
    hour_ago = timezone.now() - timedelta(hours=1)
    bots = list(
        Bot.objects.filter(competition=competition)
        .select_related("team")
        .annotate(
            calls_last_hour=Count("calls", filter=Q(calls__created_at__gte=hour_ago)),
            failures_last_hour=Count("calls", filter=Q(calls__created_at__gte=hour_ago, calls__ok=False)),
        )
        .order_by("status", "name")
    )
    live = Conversation.objects.filter(competition=competition, status=Conversation.Status.ACTIVE)
    flagged = Message.objects.filter(conversation__competition=competition, flagged=True)
    reports = Report.objects.filter(conversation__competition=competition, resolved_at=None)
    return {
        "chats_live": live.count(),
        "chats_live_with_bots": live.filter(partner_kind="bot").count(),
        "evaluators_waiting": MatchRequest.objects.filter(
            competition=competition, status=MatchRequest.Status.WAITING
        ).count(),
        "games_live": Game.objects.filter(competition=competition).live().count(),
        "game_players_waiting": GameRequest.objects.filter(
            competition=competition, status=GameRequest.Status.WAITING
        ).count(),
        "bots": bots,
        "bots_live": sum(1 for bot in bots if bot.status == Bot.Status.VERIFIED),
        "bots_failing": sum(1 for bot in bots if bot.status == Bot.Status.FAILING),
        "judgments_per_hour": judgments_per_hour(competition=competition),
        "flagged_messages_count": flagged.count(),
        "flagged_messages": list(flagged.select_related("conversation").order_by("-created_at")[:10]),
        "open_reports_count": reports.count(),
        "open_reports": list(reports.select_related("conversation", "reporter").order_by("-created_at")[:10]),
        "last_recompute_at": last_recompute_at(competition=competition),
        "flagged_evaluators": flagged_evaluators(competition=competition),
        "export_jobs": list(ExportJob.objects.filter(competition=competition).select_related("team")[:10]),
        "recent_failed_calls": list(
            BotCall.objects.filter(bot__competition=competition, ok=False).select_related("bot")[:5]
        ),
    }
