"""Reads for the control room: what is happening in a competition now."""

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.utils import timezone

from chat.models import Conversation, Game, GameRequest, Judgment, MatchRequest, Message, Report
from competitions.models import Bot, BotCall, Competition
from exports.models import ExportJob


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
