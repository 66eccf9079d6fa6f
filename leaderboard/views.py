"""Leaderboard pages: the public table and chart, the CSV, a bot's page for its team, evaluators for organizers."""

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from competitions.models import Bot, Competition
from hulic.csv_cells import SafeCsvWriter

from . import publication, selectors
from .models import LeaderboardSnapshot
from .publication import PublishedBoard
from .serializers import csv_header, csv_row

BOARD_CACHE_SECONDS = 24 * 3600


def _competition_for(request, slug: str) -> Competition:
    competition = get_object_or_404(Competition.objects.select_related("leaderboard"), slug=slug)
    if competition.phase == Competition.Phase.DRAFT and not request.user.is_staff:
        raise Http404
    return competition


def _team_ids(user) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(user.teams.values_list("id", flat=True))


def _cached_board(
    request, competition: Competition, snapshot: LeaderboardSnapshot, *, key: str, rows, is_organizer: bool
) -> str:
    """The chart and table, rendered once per key, then served from the cache; ``rows`` is called only on a miss."""
    html = cache.get(key)
    if html is None:
        board_rows = rows()
        context = {
            "competition": competition,
            "rows": board_rows,
            "criteria": board_rows[0].criteria if board_rows else [],
            "chart": selectors.leaderboard_chart(rows=board_rows, snapshot=snapshot),
            "is_organizer": is_organizer,
            "own_team_ids": _team_ids(request.user),
            "margin": snapshot.equivalence_margin,
        }
        html = render_to_string("leaderboard/_board.html", context, request=request)
        cache.set(key, html, BOARD_CACHE_SECONDS)
    # Our own template's output (autoescaped when rendered); the cache returns it as a plain string.
    return mark_safe(html)  # noqa: S308


def _teams_key(request) -> str:
    return ",".join(str(team_id) for team_id in sorted(_team_ids(request.user)))


def _board_html(request, competition: Competition, snapshot: LeaderboardSnapshot) -> str:
    """The live chart and table, cached per computation, language and link permissions.

    The key holds the snapshot's computed_at, so a recompute makes the old fragments unreachable (they expire).
    """
    is_organizer = request.user.is_staff

    def rows():
        live = selectors.leaderboard_rows(competition=competition, snapshot=snapshot)
        return live if is_organizer else selectors.leaderboard_public_rows(competition=competition, rows=live)

    parts = (snapshot.pk, snapshot.computed_at.timestamp(), competition.slug, get_language(), int(is_organizer))
    key = ":".join(["lb-board", *map(str, parts), _teams_key(request)])
    return _cached_board(request, competition, snapshot, key=key, rows=rows, is_organizer=is_organizer)


def _published_board_html(request, competition: Competition, published: PublishedBoard) -> str:
    """The public copy's chart and table (never live numbers), cached per publication, language and team links."""
    parts = (competition.pk, published.period_start.timestamp(), get_language())
    key = ":".join(["lb-published", *map(str, parts), _teams_key(request)])
    return _cached_board(
        request, competition, published.snapshot, key=key, rows=lambda: published.rows, is_organizer=False
    )


@require_GET
def leaderboard(request, slug: str):
    competition = _competition_for(request, slug)
    if not selectors.leaderboard_visible_to(competition=competition, user=request.user):
        return render(request, "leaderboard/hidden.html", {"competition": competition}, status=403)
    if publication.leaderboard_is_live_to(competition=competition, user=request.user):
        published = None
        snapshot = getattr(competition, "leaderboard", None)
        board = _board_html(request, competition, snapshot) if snapshot is not None else ""
    else:
        published = publication.published_board(competition=competition)
        snapshot = published.snapshot
        board = _published_board_html(request, competition, published) if snapshot is not None else ""
    context = {
        "competition": competition,
        "snapshot": snapshot,
        "published": published,
        "board": board,
        "is_organizer": request.user.is_staff,
    }
    return render(request, "leaderboard/leaderboard.html", context)


@require_GET
def leaderboard_csv(request, slug: str):
    competition = _competition_for(request, slug)
    if not selectors.leaderboard_visible_to(competition=competition, user=request.user):
        raise PermissionDenied
    _snapshot, rows, _published = publication.board_for(competition=competition, user=request.user)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{competition.slug}-leaderboard.csv"'
    writer = SafeCsvWriter(response)
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
def analysis_plan(request, slug: str):
    """Every version of the competition's analysis plan as JSON: the locked one first, then later changes."""
    competition = _competition_for(request, slug)
    versions = [
        {
            "kind": plan.kind,
            "recorded_at": plan.recorded_at.isoformat(),
            "sha256": plan.sha256,
            "plan": plan.plan,
        }
        for plan in selectors.analysis_plans(competition=competition)
    ]
    return JsonResponse({"competition": competition.slug, "versions": versions})


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
        "plan": selectors.analysis_plan_in_force(competition=competition),
    }
    return render(request, "leaderboard/evaluators.html", context)
