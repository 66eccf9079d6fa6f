"""The evaluator pool: joining, consent, onboarding, suspension."""

from django.db import transaction
from django.utils import timezone

from chat.models import Conversation, Evaluator, MatchRequest
from competitions.models import Competition

from .errors import EvaluatorSuspended, NotInvited
from .scores import scores_refresh_on_commit


def evaluator_join(*, competition: Competition, user) -> Evaluator:
    """The user's evaluator row; an open pool creates it, an invite-only pool requires an organizer's invitation."""
    evaluator = Evaluator.objects.filter(competition=competition, user=user).first()
    if evaluator is None:
        if competition.evaluator_pool != Competition.EvaluatorPool.OPEN:
            raise NotInvited("This competition's evaluators are invited by the organizers.")
        evaluator, _ = Evaluator.objects.get_or_create(competition=competition, user=user)
    if evaluator.status == Evaluator.Status.SUSPENDED:
        raise EvaluatorSuspended(evaluator.suspended_reason)
    return evaluator


def evaluator_consent(*, evaluator: Evaluator) -> Evaluator:
    """Consent to the competition's terms. Accepting an invitation happens here too."""
    if evaluator.status == Evaluator.Status.SUSPENDED:
        raise EvaluatorSuspended(evaluator.suspended_reason)
    evaluator.consented_at = evaluator.consented_at or timezone.now()
    evaluator.status = Evaluator.Status.ACTIVE
    evaluator.save(update_fields=["consented_at", "status"])
    return evaluator


def onboarding_wrong_answers(*, questions: list[dict], answers: list[int | None]) -> list[int]:
    """The indexes of the questions answered wrongly (or not at all)."""
    given = list(answers) + [None] * (len(questions) - len(answers))
    return [index for index, question in enumerate(questions) if given[index] != question.get("answer")]


def onboarding_answers_correct(*, questions: list[dict], answers: list[int | None]) -> bool:
    if len(answers) != len(questions):
        return False
    return not onboarding_wrong_answers(questions=questions, answers=answers)


def evaluator_onboarding_submit(*, evaluator: Evaluator, answers: list[int | None]) -> bool:
    """Check the onboarding answers; a pass is recorded once, failures are counted."""
    if onboarding_answers_correct(questions=evaluator.competition.onboarding_questions or [], answers=answers):
        evaluator.onboarding_passed_at = evaluator.onboarding_passed_at or timezone.now()
        evaluator.save(update_fields=["onboarding_passed_at"])
        return True
    evaluator.onboarding_failures += 1
    evaluator.save(update_fields=["onboarding_failures"])
    return False


@transaction.atomic
def evaluator_suspend(*, evaluator: Evaluator, reason: str) -> Evaluator:
    """Stop an evaluator: no new chats, the waiting request is cancelled and running chats end."""
    from .conversations import conversation_end

    evaluator.status = Evaluator.Status.SUSPENDED
    evaluator.suspended_reason = reason[:200]
    evaluator.save(update_fields=["status", "suspended_reason"])
    MatchRequest.objects.filter(
        competition=evaluator.competition, user=evaluator.user, status=MatchRequest.Status.WAITING
    ).update(status=MatchRequest.Status.CANCELLED)
    for conversation in (
        Conversation.objects.active().for_user(evaluator.user).filter(competition=evaluator.competition)
    ):
        conversation_end(
            conversation=conversation,
            reason=Conversation.EndReason.MODERATION,
            by_side=conversation.side_of(evaluator.user) or "",
        )
    scores_refresh_on_commit(competition_id=evaluator.competition_id)
    return evaluator


@transaction.atomic
def evaluator_reinstate(*, evaluator: Evaluator) -> Evaluator:
    evaluator.status = Evaluator.Status.ACTIVE
    evaluator.suspended_reason = ""
    evaluator.save(update_fields=["status", "suspended_reason"])
    scores_refresh_on_commit(competition_id=evaluator.competition_id)
    return evaluator
