"""Three-party game pages: the interrogator's two panes, the witness's one, the verdict. Thin over the services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chat import selectors, services
from chat.forms import GameVerdictForm, WitnessAnswerForm
from chat.models import Game, GameRequest
from chat.services import games
from competitions.models import Competition


def game_start(request: HttpRequest, competition: Competition, language: str) -> HttpResponse:
    """The evaluate page's start, when the competition's mode drew a three-party game."""
    try:
        game_request = games.game_request_start(competition=competition, user=request.user, language=language)
    except games.GameVerdictPending as error:
        return redirect("game-verdict", public_id=error.game.public_id)
    if game_request.status == GameRequest.Status.MATCHED:
        return redirect("game-room", public_id=game_request.game.public_id)
    if game_request.status == GameRequest.Status.FELL_BACK:
        chat = selectors.active_conversation_for(user=request.user)
        if chat is not None:
            return redirect("chat-room", public_id=chat.public_id)
    return redirect("evaluate-competition", slug=competition.slug)


@login_required
@require_GET
def game_status(request: HttpRequest, slug: str) -> JsonResponse:
    """Polled by the waiting page; each poll is also a pairing attempt."""
    competition = get_object_or_404(Competition.objects.evaluating(), slug=slug)
    state, found = games.game_poll(competition=competition, user=request.user)
    url = None
    if isinstance(found, Game):
        url = reverse("game-room", kwargs={"public_id": found.public_id})
    elif found is not None:
        url = reverse("chat-room", kwargs={"public_id": found.public_id})
    return JsonResponse({"status": state, "chat_url": url})


def _game_or_404(request: HttpRequest, public_id) -> Game:
    game = selectors.game_for_participant(public_id=public_id, user=request.user)
    if game is None:
        raise Http404
    return game


def _pane(conversation, label: str) -> dict:
    return {
        "label": label,
        "conversation": conversation,
        "ws_path": f"/ws/chat/{conversation.public_id}/",
        "alias": conversation.alias_b,
    }


@login_required
@require_GET
def game_room(request: HttpRequest, public_id) -> HttpResponse:
    game = _game_or_404(request, public_id)
    games.game_end_if_expired(game=game)
    game.refresh_from_db()
    role = game.role_of(request.user)
    if role == "interrogator":
        if game.is_over:
            return redirect("game-verdict", public_id=public_id)
        left, right = game.panes()
        panes = [_pane(left, "left"), _pane(right, "right")]
    else:
        if not game.human_conversation.is_active:
            return redirect("game-verdict", public_id=public_id)
        panes = [_pane(game.human_conversation, "witness")]
        panes[0]["alias"] = game.human_conversation.alias_a
    return render(
        request,
        "chat/game_room.html",
        {
            "game": game,
            "role": role,
            "panes": panes,
            "max_chars": game.competition.max_message_chars,
            "verdict_url": reverse("game-verdict", kwargs={"public_id": public_id}),
            "finish_url": reverse("game-finish", kwargs={"public_id": public_id}),
        },
    )


@login_required
@require_POST
def game_finish(request: HttpRequest, public_id) -> HttpResponse:
    game = _game_or_404(request, public_id)
    try:
        games.game_finish_early(game=game, user=request.user)
    except services.JudgmentNotAllowed:
        raise Http404 from None
    return redirect("game-verdict", public_id=public_id)


@login_required
def game_verdict(request: HttpRequest, public_id) -> HttpResponse:
    game = _game_or_404(request, public_id)
    games.game_end_if_expired(game=game)
    game.refresh_from_db()
    role = game.role_of(request.user)
    still_playing = not game.is_over if role == "interrogator" else game.human_conversation.is_active
    if still_playing:
        return redirect("game-room", public_id=public_id)
    form_class = GameVerdictForm if role == "interrogator" else WitnessAnswerForm
    form = form_class(request.POST or None)
    done = hasattr(game, "verdict") if role == "interrogator" else game.witness_answered_at is not None
    if request.method == "POST" and not done and form.is_valid():
        try:
            if role == "interrogator":
                games.game_verdict_record(game=game, interrogator=request.user, **form.cleaned_data)
            else:
                games.game_witness_answer(game=game, witness=request.user, effort=form.cleaned_data["effort"])
        except services.JudgmentInvalid as error:
            for field, text in error.errors.items():
                form.add_error(field if field in form.fields else None, text)
        except services.JudgmentNotAllowed:
            done = True
        else:
            messages.success(request, _("Thank you! Your answer is saved."))
            return redirect("game-verdict", public_id=public_id)
    game.refresh_from_db()
    verdict = getattr(game, "verdict", None) if role == "interrogator" else None
    return render(
        request,
        "chat/game_verdict.html",
        {
            "game": game,
            "role": role,
            "form": form,
            "done": done,
            "verdict": verdict,
            "human_side": "left" if game.human_on_left else "right",
            "evaluate_url": reverse("evaluate-competition", kwargs={"slug": game.competition.slug}),
        },
    )
