"""Leaderboard pages: the public table and chart, the CSV, a bot's page for its team, evaluators for organizers."""

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from competitions.models import Bot, Competition

from . import selectors
from .serializers import csv_header, csv_row


def _competition_for(request, slug: str) -> Competition:
    competition = get_object_or_404(Competition, slug=slug)
    if competition.phase == Competition.Phase.DRAFT and not request.user.is_staff:
        raise Http404
    return competition


def _team_ids(user) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(user.teams.values_list("id", flat=True))


@require_GET
def leaderboard(request, slug: str):
    competition = _competition_for(request, slug)
    if not selectors.leaderboard_visible_to(competition=competition, user=request.user):
        return render(request, "leaderboard/hidden.html", {"competition": competition}, status=403)
    snapshot = selectors.leaderboard_snapshot(competition=competition)
    rows = selectors.leaderboard_rows(competition=competition, snapshot=snapshot)
    context = {
        "competition": competition,
        "snapshot": snapshot,
        "rows": rows,
        "criteria": rows[0].criteria if rows else [],
        "chart": selectors.leaderboard_chart(rows=rows, snapshot=snapshot),
        "is_organizer": request.user.is_staff,
        "own_team_ids": _team_ids(request.user),
    }
    return render(request, "leaderboard/leaderboard.html", context)


@require_GET
def leaderboard_csv(request, slug: str):
    competition = _competition_for(request, slug)
    if not selectors.leaderboard_visible_to(competition=competition, user=request.user):
        raise PermissionDenied
    rows = selectors.leaderboard_rows(competition=competition)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{competition.slug}-leaderboard.csv"'
    writer = csv.writer(response)
    writer.writerow(csv_header([figure.key for figure in rows[0].criteria] if rows else competition.criteria_keys))
    writer.writerows(csv_row(row) for row in rows)
    return response


@require_GET
@login_required
def bot_scores(request, slug: str, bot_id: int):
    bot = get_object_or_404(Bot.objects.select_related("team", "competition"), pk=bot_id, competition__slug=slug)
    if not selectors.bot_page_visible_to(bot=bot, user=request.user):
        raise PermissionDenied
    context = {
        "competition": bot.competition,
        "bot": bot,
        "row": selectors.bot_row(bot=bot),
        "snapshot": selectors.leaderboard_snapshot(competition=bot.competition),
        "daily": selectors.bot_daily_scores(bot=bot),
        "examples": selectors.bot_example_chats(bot=bot),
    }
    return render(request, "leaderboard/bot.html", context)


@require_GET
@login_required
def evaluator_scores(request, slug: str):
    if not request.user.is_staff:
        raise PermissionDenied
    competition = get_object_or_404(Competition, slug=slug)
    context = {
        "competition": competition,
        "snapshot": selectors.leaderboard_snapshot(competition=competition),
        "evaluators": selectors.evaluator_scores(competition=competition),
    }
    return render(request, "leaderboard/evaluators.html", context)
