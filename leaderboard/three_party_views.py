"""The "Three-party" tab: page, CSV and API, with the two-party leaderboard's visibility rules.

Its numbers are not published on a schedule: before closing, only organizers see them (docs/blinding.md, channel 5).
"""

import csv

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import publication, selectors
from .api import HIDDEN, _visible_competition
from .three_party import CSV_COLUMNS, three_party_chart, three_party_rows
from .views import _competition_for


def _live_visible_to(competition, user) -> bool:
    return selectors.leaderboard_visible_to(competition=competition, user=user) and publication.leaderboard_is_live_to(
        competition=competition, user=user
    )


@require_GET
def three_party_leaderboard(request, slug: str):
    competition = _competition_for(request, slug)
    if not _live_visible_to(competition, request.user):
        return render(request, "leaderboard/hidden.html", {"competition": competition}, status=403)
    rows = three_party_rows(competition=competition)
    chart = three_party_chart(rows=rows, margin=competition.equivalence_margin)
    context = {"competition": competition, "rows": rows, "chart": chart}
    return render(request, "leaderboard/three_party.html", context)


@require_GET
def three_party_csv(request, slug: str):
    competition = _competition_for(request, slug)
    if not _live_visible_to(competition, request.user):
        raise PermissionDenied
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{competition.slug}-three-party.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(row.csv_values() for row in three_party_rows(competition=competition))
    return response


class ThreePartyLeaderboardApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            200: inline_serializer(
                "ThreePartyLeaderboard",
                {"competition": serializers.CharField(), "rows": serializers.ListField(child=serializers.DictField())},
            ),
            403: HIDDEN,
        },
        summary="A competition's three-party leaderboard (win rate: picked as the human)",
    )
    def get(self, request, slug: str):
        competition = _visible_competition(request, slug)
        if not _live_visible_to(competition, request.user):
            raise exceptions.PermissionDenied("The three-party leaderboard is hidden until the competition closes.")
        rows = three_party_rows(competition=competition)
        return Response({"competition": competition.slug, "rows": [row.as_dict() for row in rows]})
