"""Reads for competition, team and bot pages and the participants' API.

Team-scoped selectors take the requesting user and return only what that user may see, so a
view that looks an object up through them answers 404 for other teams' objects.
"""

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from rest_framework.authtoken.models import Token

from .models import Bot, BotCall, BotVersion, Competition, Team, TeamInvitation, TeamMembership

RECENT_CALLS = 20


def competitions_visible(*, user=None) -> QuerySet[Competition]:
    """Competitions the public may see; organizers (staff) also see drafts."""
    if user is not None and user.is_staff:
        return Competition.objects.all()
    return Competition.objects.visible()


def competitions_accepting_bots() -> QuerySet[Competition]:
    return Competition.objects.filter(phase__in=[Competition.Phase.REGISTRATION, Competition.Phase.EVALUATION])


def teams_for_user(*, user) -> QuerySet[Team]:
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user).annotate(bot_count=Count("bots", distinct=True))


def team_is_owner(*, team: Team, user) -> bool:
    return team.memberships.filter(user=user, role=TeamMembership.Role.OWNER).exists()


def team_memberships(*, team: Team) -> QuerySet[TeamMembership]:
    return team.memberships.select_related("user").order_by("joined_at")


def team_open_invitations(*, team: Team) -> QuerySet[TeamInvitation]:
    return team.invitations.filter(accepted_at=None, expires_at__gt=timezone.now()).order_by("-created_at")


def bots_for_user(*, user) -> QuerySet[Bot]:
    """Every bot of every team the user belongs to."""
    if not user.is_authenticated:
        return Bot.objects.none()
    return Bot.objects.filter(team__memberships__user=user).select_related("team", "competition")


def bots_for_team(*, team: Team) -> QuerySet[Bot]:
    return team.bots.select_related("competition").order_by("competition__title", "name")


def bot_recent_calls(*, bot: Bot, limit: int = RECENT_CALLS) -> list[BotCall]:
    return list(bot.calls.order_by("-created_at")[:limit])


def bot_versions(*, bot: Bot) -> QuerySet[BotVersion]:
    return bot.versions.select_related("created_by").order_by("-number")


def bot_failure_counts(*, bot: Bot, limit: int = 100) -> list[dict]:
    """How the bot's last ``limit`` calls failed, most common reason first: [{kind, label, count}]."""
    recent_ids = bot.calls.order_by("-created_at").values_list("id", flat=True)[:limit]
    rows = (
        BotCall.objects.filter(id__in=list(recent_ids), ok=False)
        .values("failure_kind")
        .annotate(count=Count("id"))
        .order_by("-count", "failure_kind")
    )
    labels = dict(BotCall.Failure.choices)
    return [
        {
            "kind": row["failure_kind"],
            "label": labels.get(row["failure_kind"], row["failure_kind"]),
            "count": row["count"],
        }
        for row in rows
    ]


def bot_call_success_rate(*, bot: Bot, limit: int = 100) -> float | None:
    recent_ids = list(bot.calls.order_by("-created_at").values_list("id", flat=True)[:limit])
    if not recent_ids:
        return None
    counts = BotCall.objects.filter(id__in=recent_ids).aggregate(ok=Count("id", filter=Q(ok=True)))
    return counts["ok"] / len(recent_ids)


def api_token_for_user(*, user) -> Token | None:
    return Token.objects.filter(user=user).first()
