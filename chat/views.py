"""Evaluator pages: thin views over chat.services and chat.selectors."""

import random

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chat import game_views, selectors, services
from chat.forms import JudgmentForm, OnboardingForm, ReportForm
from chat.models import Conversation, MatchRequest
from competitions.models import Competition
from review.services import attention_check_next

LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}


def _error_message(error: services.ChatError) -> str:
    return {
        "not_invited": _("This competition's evaluators are invited by the organizers."),
        "suspended": _("Your evaluator account for this competition is suspended."),
        "not_ready": _("Consent to the terms and complete the onboarding first."),
        "matchmaking_closed": _("Chats are not open right now. Please try again later."),
        "already_in_chat": _("You are already in a chat."),
        "judgment_pending": _("Please judge your last chat before starting another."),
    }.get(error.code, _("Something went wrong. Please try again."))


@login_required
@require_GET
def evaluate(request: HttpRequest) -> HttpResponse:
    rows = selectors.competitions_for_evaluation(user=request.user)
    return render(request, "chat/evaluate.html", {"rows": rows})


def _default_language(competition: Competition) -> str:
    current = (get_language() or "en")[:2]
    return current if current in competition.languages else competition.languages[0]


@login_required
def evaluate_competition(request: HttpRequest, slug: str) -> HttpResponse:
    competition = get_object_or_404(Competition.objects.evaluating(), slug=slug)
    if request.method == "POST":
        return _evaluate_action(request, competition)
    return _evaluate_page(request, competition)


def _evaluate_page(request: HttpRequest, competition: Competition, *, onboarding_form=None) -> HttpResponse:
    evaluator = selectors.evaluator_for(user=request.user, competition=competition)
    active = selectors.active_conversation_for(user=request.user)
    if active is not None and active.competition_id == competition.pk:
        # Paired between the start POST and this page (another evaluator's poll did it): straight to the chat.
        return redirect("chat-room", public_id=active.public_id)
    waiting = selectors.waiting_request_for(user=request.user, competition=competition)
    ready = evaluator is not None and evaluator.is_ready and not competition.matchmaking_paused
    context = {
        "competition": competition,
        "evaluator": evaluator,
        "invite_only": evaluator is None and competition.evaluator_pool != Competition.EvaluatorPool.OPEN,
        "active": active,
        "pending": selectors.unjudged_conversation_for(user=request.user),
        "game": selectors.current_game_for(user=request.user, competition=competition),
        "game_waiting": selectors.waiting_game_request_for(user=request.user, competition=competition),
        "waiting": waiting,
        "unavailable": (
            services.match_unavailable_reason(competition=competition, user=request.user)
            if ready and waiting is None
            else ""
        ),
        # Where every chat looks for a person first (share 1), one may still start although no bot is left.
        "human_partner_possible": competition.control_chat_share >= 1,
        "chat_languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in competition.languages],
        "default_language": _default_language(competition),
    }
    if evaluator is not None and evaluator.consented_at and not evaluator.onboarding_passed_at:
        context["onboarding_form"] = onboarding_form or OnboardingForm(questions=competition.onboarding_questions or [])
    return render(request, "chat/evaluate_competition.html", context)


def _evaluate_action(request: HttpRequest, competition: Competition) -> HttpResponse:
    here = reverse("evaluate-competition", kwargs={"slug": competition.slug})
    action = request.POST.get("action")
    try:
        if action == "consent":
            services.evaluator_consent(evaluator=services.evaluator_join(competition=competition, user=request.user))
        elif action == "onboarding":
            evaluator = services.evaluator_join(competition=competition, user=request.user)
            questions = competition.onboarding_questions or []
            form = OnboardingForm(request.POST, questions=questions)
            passed = form.is_valid() and services.evaluator_onboarding_submit(
                evaluator=evaluator, answers=form.answers()
            )
            if not passed:
                if form.is_valid():
                    wrong = services.onboarding_wrong_answers(questions=questions, answers=form.answers())
                    for index in wrong:
                        form.add_error(f"q{index}", _("Not quite: read the instructions above and choose again."))
                messages.error(request, _("Some answers were not right. The questions to look at again are marked."))
                return _evaluate_page(request, competition, onboarding_form=form)
        elif action == "start":
            language = request.POST.get("language") or _default_language(competition)
            unfinished = selectors.unfinished_game_for(user=request.user, competition=competition)
            if unfinished is not None:
                return redirect("game-verdict", public_id=unfinished.public_id)
            if attention_check_next(competition=competition, user=request.user) is not None:
                # Shown on the review page like any review item; saving it leads back here.
                return redirect(f"{reverse('review', kwargs={'slug': competition.slug})}?then=evaluate")
            if competition.draws_three_party(random.random()):
                return game_views.game_start(request, competition, language)
            match_request = services.match_request_start(competition=competition, user=request.user, language=language)
            if match_request.status == MatchRequest.Status.MATCHED:
                return redirect("chat-room", public_id=match_request.conversation.public_id)
        elif action == "cancel":
            waiting = selectors.waiting_request_for(user=request.user, competition=competition)
            if waiting is not None:
                services.match_request_cancel(match_request=waiting)
            game_waiting = selectors.waiting_game_request_for(user=request.user, competition=competition)
            if game_waiting is not None:
                game_views.games.game_request_cancel(game_request=game_waiting)
    except services.AlreadyInChat as error:
        return redirect("chat-room", public_id=error.conversation.public_id)
    except services.JudgmentPending as error:
        messages.info(request, _error_message(error))
        return redirect("chat-judge", public_id=error.conversation.public_id)
    except services.NoPartnerAvailable:
        pass  # the page says why, from the same reason
    except services.ChatError as error:
        messages.error(request, _error_message(error))
    return redirect(here)


@login_required
@require_GET
def match_status(request: HttpRequest, slug: str) -> JsonResponse:
    """Polled by the waiting page; each poll is also a pairing attempt."""
    competition = get_object_or_404(Competition.objects.evaluating(), slug=slug)
    state, conversation = services.match_poll(competition=competition, user=request.user)
    chat_url = reverse("chat-room", kwargs={"public_id": conversation.public_id}) if conversation else None
    return JsonResponse({"status": state, "chat_url": chat_url})


@login_required
@require_GET
def evaluator_history(request: HttpRequest, slug: str) -> HttpResponse:
    competition = get_object_or_404(Competition.objects.visible(), slug=slug)
    history = selectors.evaluator_history(user=request.user, competition=competition)
    return render(request, "chat/history.html", {"competition": competition, "history": history})


def _conversation_or_404(request: HttpRequest, public_id) -> Conversation:
    conversation = selectors.conversation_for_participant(public_id=public_id, user=request.user)
    if conversation is None:
        raise Http404
    return conversation


@login_required
@require_GET
def chat_room(request: HttpRequest, public_id) -> HttpResponse:
    conversation = _conversation_or_404(request, public_id)
    game = selectors.game_of_conversation(conversation=conversation)
    if game is not None:
        return redirect("game-room", public_id=game.public_id)
    services.conversation_end_if_expired(conversation=conversation)
    if not conversation.is_active:
        return redirect("chat-judge", public_id=public_id)
    side = conversation.side_of(request.user)
    return render(
        request,
        "chat/room.html",
        {
            "conversation": conversation,
            "partner_alias": conversation.partner_alias_for(side),
            "ws_path": f"/ws/chat/{conversation.public_id}/",
            "judge_url": reverse("chat-judge", kwargs={"public_id": public_id}),
            "report_form": ReportForm(),
        },
    )


@login_required
def chat_judge(request: HttpRequest, public_id) -> HttpResponse:
    conversation = _conversation_or_404(request, public_id)
    game = selectors.game_of_conversation(conversation=conversation)
    if game is not None:
        return redirect("game-verdict", public_id=game.public_id)
    services.conversation_end_if_expired(conversation=conversation)
    if conversation.is_active:
        return redirect("chat-room", public_id=public_id)
    judgment = selectors.judgment_for(conversation=conversation, user=request.user)
    criteria = conversation.competition.criteria
    form = JudgmentForm(request.POST or None, criteria=criteria)
    excluded = judgment is None and selectors.judgment_excluded(conversation=conversation, user=request.user)
    too_short = judgment is None and (excluded or conversation.is_too_short_to_judge)
    if request.method == "POST" and judgment is None and not too_short and form.is_valid():
        try:
            judgment = services.judgment_record(
                conversation=conversation,
                evaluator=request.user,
                verdict=form.cleaned_data["verdict"],
                confidence=form.cleaned_data["confidence"],
                ratings=form.ratings(),
                reason=form.cleaned_data["reason"],
            )
        except services.JudgmentInvalid as error:
            for field, text in error.errors.items():
                form.add_error(field if field in form.fields else None, text)
        except services.JudgmentNotAllowed:
            judgment = selectors.judgment_for(conversation=conversation, user=request.user)
        else:
            messages.success(request, _("Thank you! Your judgment is saved."))
            return redirect("chat-judge", public_id=public_id)
    side = conversation.side_of(request.user)
    reveal = None
    if judgment is not None and conversation.competition.reveal_partner_after_judgment:
        reveal = judgment.partner_kind
    return render(
        request,
        "chat/judge.html",
        {
            "conversation": conversation,
            "partner_alias": conversation.partner_alias_for(side),
            "form": form,
            "judgment": judgment,
            "too_short": too_short,
            "excluded": excluded,
            "transcript": selectors.transcript_for(conversation=conversation, side=side),
            "reveal": reveal,
            "evaluate_url": reverse("evaluate-competition", kwargs={"slug": conversation.competition.slug}),
        },
    )


@login_required
@require_POST
def chat_report(request: HttpRequest, public_id) -> HttpResponse:
    conversation = _conversation_or_404(request, public_id)
    form = ReportForm(request.POST)
    if form.is_valid():
        services.report_create(conversation=conversation, reporter=request.user, reason=form.cleaned_data["reason"])
        ok, detail = True, _("Thank you. The organizers will review your report.")
    else:
        ok, detail = False, _("Please say what happened.")
    if "application/json" in request.headers.get("Accept", ""):
        # The chat page reports in the background: the chat and any unsent message stay on screen.
        return JsonResponse({"ok": ok, "detail": detail}, status=200 if ok else 400)
    (messages.success if ok else messages.error)(request, detail)
    target = "chat-room" if conversation.is_active else "chat-judge"
    return redirect(target, public_id=public_id)
