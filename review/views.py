"""Review pages: the reviewer's item, the leaderboard's Review tab and its CSV, organizers' progress page."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from competitions.models import Competition
from hulic.csv_cells import SafeCsvWriter
from leaderboard.selectors import leaderboard_visible_to

from . import selectors, services
from .forms import PairwiseReviewForm, SingleReviewForm
from .models import ReviewKind


def _error_message(error: services.ReviewError) -> str:
    return {
        services.ReviewClosed: _("Transcript review is not open in this competition."),
        services.NotAReviewer: _("Only evaluators of this competition who consented and passed onboarding review."),
        services.ReviewerStopped: _("Too many check items were answered wrongly: your reviews no longer count."),
        services.NothingToReview: _("There is nothing for you to review right now. Thank you!"),
    }.get(type(error), _("This item was already reviewed."))


def _competition(request: HttpRequest, slug: str) -> Competition:
    competition = get_object_or_404(Competition.objects.visible(), slug=slug)
    return competition


@login_required
def review(request: HttpRequest, slug: str) -> HttpResponse:
    """GET shows the reviewer's current item (assigning one if needed); POST records the review of it."""
    competition = _competition(request, slug)
    review_settings = services.review_settings_for(competition)
    try:
        assignment = services.review_next(competition=competition, user=request.user, review_settings=review_settings)
    except services.ReviewError as error:
        context = {"competition": competition, "error": _error_message(error), "settings": review_settings}
        return render(request, "review/review.html", context, status=200)
    form_class = SingleReviewForm if assignment.item.kind == ReviewKind.SINGLE else PairwiseReviewForm
    form = form_class(request.POST or None)
    then_evaluate = request.GET.get("then") == "evaluate"
    if request.method == "POST" and form.is_valid():
        if request.POST.get("assignment") != str(assignment.public_id):
            return redirect("review", slug=slug)
        try:
            if assignment.item.kind == ReviewKind.SINGLE:
                services.review_record_single(assignment_id=assignment.pk, user=request.user, **form.cleaned_data)
            else:
                services.review_record_pairwise(assignment_id=assignment.pk, user=request.user, **form.cleaned_data)
        except services.InvalidReview:
            pass  # a second tab saved it first: the next GET shows the next item
        if then_evaluate:
            return redirect("evaluate-competition", slug=slug)
        return redirect("review", slug=slug)
    context = {
        "competition": competition,
        "settings": review_settings,
        "form": form,
        "done": assignment.reviewed_before,
        "then_evaluate": then_evaluate,
        **selectors.assignment_for_display(assignment=assignment),
    }
    return render(request, "review/review.html", context)


def _visible_board(request: HttpRequest, slug: str) -> Competition:
    competition = get_object_or_404(Competition, slug=slug)
    if competition.phase == Competition.Phase.DRAFT and not request.user.is_staff:
        raise Http404
    if not leaderboard_visible_to(competition=competition, user=request.user):
        raise PermissionDenied
    return competition


@require_GET
def board(request: HttpRequest, slug: str) -> HttpResponse:
    competition = _visible_board(request, slug)
    snapshot = selectors.review_snapshot(competition=competition)
    context = {
        "competition": competition,
        "snapshot": snapshot,
        "chart": selectors.review_chart(snapshot=snapshot),
        "win_rates": list(zip(snapshot.witnesses, snapshot.win_rates, strict=True)) if snapshot else [],
        "is_organizer": request.user.is_staff,
    }
    return render(request, "review/board.html", context)


@require_GET
def board_csv(request: HttpRequest, slug: str) -> HttpResponse:
    competition = _visible_board(request, slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{competition.slug}-review.csv"'
    writer = SafeCsvWriter(response)
    writer.writerow(selectors.CSV_COLUMNS)
    writer.writerows(selectors.csv_rows(snapshot=selectors.review_snapshot(competition=competition)))
    return response


@require_GET
@login_required
def progress(request: HttpRequest, slug: str) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied
    competition = get_object_or_404(Competition, slug=slug)
    return render(
        request,
        "review/progress.html",
        {"competition": competition, **selectors.review_progress(competition=competition)},
    )
