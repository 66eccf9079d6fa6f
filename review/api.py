"""The review figures as JSON: the same visibility rules as the main leaderboard."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from competitions.models import Competition
from hulic.api_errors import ApiErrorSerializer
from leaderboard.selectors import leaderboard_visible_to

from . import selectors
from .serializers import ReviewBoardSerializer

HIDDEN = OpenApiResponse(ApiErrorSerializer, description="Hidden from you (see `detail`).")


class ReviewBoardApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: ReviewBoardSerializer, 403: HIDDEN}, summary="A competition's transcript-review figures"
    )
    def get(self, request, slug: str):
        competition = get_object_or_404(Competition, slug=slug)
        if competition.phase == Competition.Phase.DRAFT and not request.user.is_staff:
            raise NotFound
        if not leaderboard_visible_to(competition=competition, user=request.user):
            raise PermissionDenied("The leaderboard is hidden while the competition is being evaluated.")
        snapshot = selectors.review_snapshot(competition=competition)
        return Response(ReviewBoardSerializer({"competition": competition.slug, "snapshot": snapshot}).data)
