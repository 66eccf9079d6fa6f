"""Browser pages: a competition's data page, requesting an export, streaming a download."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from competitions.models import Competition, Team
from exports import selectors, services
from exports.forms import ExportRequestForm
from exports.models import ExportJob


def _competition(slug: str) -> Competition:
    return get_object_or_404(Competition.objects.visible(), slug=slug)


@require_GET
def competition_data(request, slug):
    competition = _competition(slug)
    return render(
        request,
        "exports/competition_data.html",
        {
            "competition": competition,
            "jobs": selectors.export_jobs_for_user(competition=competition, user=request.user),
            "public_available": selectors.public_release_available(competition=competition),
            "teams": selectors.teams_user_may_export(competition=competition, user=request.user),
            "formats": ExportJob.Format.choices,
        },
    )


@require_POST
def export_request(request, slug):
    competition = _competition(slug)
    form = ExportRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a format and what to export."))
        return redirect("export-data", slug=slug)
    scope, team_slug = form.cleaned_data["what"]
    team = get_object_or_404(Team, slug=team_slug) if team_slug else None
    try:
        services.export_job_create(
            competition=competition,
            requested_by=request.user,
            scope=scope,
            fmt=form.cleaned_data["format"],
            team=team,
        )
    except services.ExportNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Export requested. It appears below when it is ready."))
    return redirect("export-data", slug=slug)


@require_GET
def export_download(request, slug, public_id):
    job = get_object_or_404(ExportJob.objects.select_related("competition", "team"), public_id=public_id)
    # A job the user may not see answers 404, as if it did not exist.
    if job.competition.slug != slug or not selectors.export_job_can_download(job=job, user=request.user):
        raise Http404
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.download_name)
