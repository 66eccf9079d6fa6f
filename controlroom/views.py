"""The organizers' control room: one admin page per competition, and the POST actions it offers."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from chat.models import Evaluator
from chat.services import evaluator_suspend
from competitions.models import Bot, Competition
from competitions.services import bot_disable, competition_matchmaking_set
from controlroom import selectors
from controlroom.charts import bar_chart_svg
from exports.models import ExportJob
from exports.services import ExportNotAllowed, export_job_create
from leaderboard.services import competition_recompute


def control_room_view(model_admin, request, competition_id: int):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    competition = get_object_or_404(Competition, pk=competition_id)
    snapshot = selectors.control_room_snapshot(competition=competition)
    hours = snapshot["judgments_per_hour"]
    chart = bar_chart_svg(
        [count for _hour, count in hours],
        [date_format(hour, "H:i") for hour, _count in hours],
        title=_("Judgments per hour, last 24 hours"),
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Control room: %(title)s") % {"title": competition.title},
        "competition": competition,
        "snapshot": snapshot,
        # Built by bar_chart_svg, which escapes every label it writes.
        "chart_svg": mark_safe(chart),  # noqa: S308
        "judgments_last_24h": sum(count for _hour, count in hours),
        "formats": ExportJob.Format.choices,
        "can_act": model_admin.has_change_permission(request),
    }
    return TemplateResponse(request, "admin/controlroom/control_room.html", context)


def _act(request, competition: Competition) -> str:
    action = request.POST.get("action", "")
    if action == "recompute":
        competition_recompute(competition_id=competition.pk)
        return _("Leaderboard recomputed.")
    if action in ("pause", "resume"):
        competition_matchmaking_set(competition=competition, paused=action == "pause")
        return _("Matchmaking paused.") if action == "pause" else _("Matchmaking resumed.")
    if action == "disable_bot":
        bot = get_object_or_404(Bot, pk=request.POST.get("bot"), competition=competition)
        bot_disable(bot=bot)
        return _("Bot %(name)s disabled.") % {"name": bot.name}
    if action == "suspend_evaluator":
        username = request.POST.get("username", "").strip()
        user = get_user_model().objects.filter(username=username).first()
        evaluator = Evaluator.objects.filter(competition=competition, user=user).first() if user else None
        if evaluator is None:
            raise ValueError(_("No evaluator %(username)s in this competition.") % {"username": username})
        evaluator_suspend(evaluator=evaluator, reason=request.POST.get("reason", "").strip())
        return _("Evaluator %(username)s suspended.") % {"username": username}
    if action == "export":
        job = export_job_create(
            competition=competition, requested_by=request.user, scope="all", fmt=request.POST.get("format", "")
        )
        return _("Export %(format)s queued.") % {"format": job.get_format_display()}
    raise ValueError(_("Unknown action."))


def control_room_action(model_admin, request, competition_id: int):
    if request.method != "POST":
        return redirect("admin:controlroom_controlroom_room", competition_id=competition_id)
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    competition = get_object_or_404(Competition, pk=competition_id)
    try:
        messages.success(request, _act(request, competition))
    except (ValueError, ExportNotAllowed) as exc:
        messages.error(request, str(exc))
    except ImportError as exc:
        messages.error(request, _("This operation is not available yet: %(error)s") % {"error": exc})
    return redirect("admin:controlroom_controlroom_room", competition_id=competition_id)
