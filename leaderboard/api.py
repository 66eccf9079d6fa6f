"""The leaderboard as JSON: same visibility rules as the pages, anonymous allowed when public."""

from dataclasses import asdict

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from competitions.models import Bot, Competition
from hulic.api_errors import ApiErrorSerializer

from . import publication, selectors
from .serializers import BotScoresSerializer, LeaderboardSerializer, SnapshotSerializer

HIDDEN = OpenApiResponse(ApiErrorSerializer, description="Hidden from you (see `detail`).")


def _visible_competition(request, slug: str) -> Competition:
    competition = get_object_or_404(Competition, slug=slug)
    if competition.phase == Competition.Phase.DRAFT and not request.user.is_staff:
        raise NotFound
    if not selectors.leaderboard_visible_to(competition=competition, user=request.user):
        raise PermissionDenied("The leaderboard is hidden while the competition is being evaluated.")
    return competition


class LeaderboardApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: LeaderboardSerializer, 403: HIDDEN}, summary="A competition's leaderboard")
    def get(self, request, slug: str):
        competition = _visible_competition(request, slug)
        snapshot, rows, published = publication.board_for(competition=competition, user=request.user)
        published_at = published.period_start if published else None
        next_publication_at = published.next_at if published else None
        # The rows are plain dataclasses of stored numbers: returned as they are (the serializer documents the
        # shape for the schema) because running 100 nested serializers per request doubled the response time.
        data = {
            "competition": competition.slug,
            "published_at": published_at.isoformat() if published_at else None,
            "next_publication_at": next_publication_at.isoformat() if next_publication_at else None,
            "snapshot": SnapshotSerializer(snapshot).data if snapshot is not None else None,
            "rows": [asdict(row) for row in rows],
        }
        return Response(data)


class BotScoresApi(APIView):
    """A bot's figures and their daily course: for its team and the organizers."""

    @extend_schema(responses={200: BotScoresSerializer, 403: HIDDEN}, summary="A bot's scores over time")
    def get(self, request, slug: str, bot_id: int):
        bot = get_object_or_404(Bot.objects.select_related("team", "competition"), pk=bot_id, competition__slug=slug)
        if not selectors.bot_page_visible_to(bot=bot, user=request.user):
            raise PermissionDenied("Only the bot's team and the organizers see its figures.")
        row = selectors.bot_row(bot=bot)
        data = {
            "competition": bot.competition.slug,
            "row": asdict(row) if row is not None else None,
            "daily": list(selectors.bot_daily_scores(bot=bot)),
        }
        return Response(BotScoresSerializer(data).data)
