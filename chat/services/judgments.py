"""Judgments and reports."""

from django.db import IntegrityError, transaction

from chat.models import Conversation, Judgment, JudgmentExclusion, PartnerKind, Report

from .errors import JudgmentInvalid, JudgmentNotAllowed
from .scores import scores_refresh_on_commit

MAX_REASON_CHARS = 2000


def judgment_validate(*, criteria_keys: list[str], verdict, confidence, ratings, reason) -> dict[str, str]:
    """Field errors of a judgment; empty when it is complete."""
    errors: dict[str, str] = {}
    if verdict not in Judgment.Verdict.values:
        errors["verdict"] = "Choose human or bot."
    if not isinstance(confidence, int) or isinstance(confidence, bool) or not 1 <= confidence <= 5:
        errors["confidence"] = "Give a confidence from 1 to 5."
    if not isinstance(ratings, dict) or set(ratings) != set(criteria_keys):
        errors["ratings"] = "Rate every criterion."
    elif any(not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 5 for v in ratings.values()):
        errors["ratings"] = "Ratings are from 1 to 5."
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = "Say briefly why."
    elif len(reason) > MAX_REASON_CHARS:
        errors["reason"] = f"At most {MAX_REASON_CHARS} characters."
    return errors


def judgment_record(
    *, conversation: Conversation, evaluator, verdict: str, confidence: int, ratings: dict, reason: str
) -> Judgment:
    """Save an evaluator's one, final judgment of an ended chat and schedule the leaderboard's recompute."""
    side = conversation.side_of(evaluator)
    if side is None:
        raise JudgmentNotAllowed("This is not your chat.")
    if conversation.status == Conversation.Status.ACTIVE:
        raise JudgmentNotAllowed("The chat has not ended yet.")
    if JudgmentExclusion.objects.filter(conversation=conversation, evaluator=evaluator).exists():
        raise JudgmentNotAllowed("The organizers excluded your judgment of this chat.")
    errors = judgment_validate(
        criteria_keys=conversation.competition.criteria_keys,
        verdict=verdict,
        confidence=confidence,
        ratings=ratings,
        reason=reason,
    )
    if errors:
        raise JudgmentInvalid(errors)
    # Side b of a control chat judged side a, a human; side a judged side b, a bot or a human.
    partner_kind = PartnerKind.HUMAN if side == "b" else conversation.partner_kind
    try:
        with transaction.atomic():
            judgment = Judgment.objects.create(
                conversation=conversation,
                evaluator=evaluator,
                competition_id=conversation.competition_id,
                bot_id=conversation.bot_id if partner_kind == PartnerKind.BOT else None,
                partner_kind=partner_kind,
                verdict=verdict,
                confidence=confidence,
                ratings={key: ratings[key] for key in conversation.competition.criteria_keys},
                reason=reason.strip(),
                message_count=conversation.last_seq,
            )
    except IntegrityError as error:
        raise JudgmentNotAllowed("You have already judged this chat.") from error
    scores_refresh_on_commit(competition_id=conversation.competition_id)
    return judgment


def judgment_exclude(*, judgment: Judgment, reason: str, excluded_by) -> JudgmentExclusion:
    """Take a judgment out of the results, keeping its content, the reason and who decided, then recompute.

    The judgment row goes (counts, tallies and exports leave it out by construction); the exclusion row keeps it.
    """
    reason = reason.strip()
    if not reason:
        raise JudgmentInvalid({"reason": "Say why the judgment is excluded."})
    with transaction.atomic():
        locked = Judgment.objects.select_for_update().filter(pk=judgment.pk).first()
        if locked is None:
            raise JudgmentNotAllowed("This judgment is gone already.")
        exclusion = JudgmentExclusion.objects.create(
            competition_id=locked.competition_id,
            conversation_id=locked.conversation_id,
            evaluator_id=locked.evaluator_id,
            judgment={
                "id": locked.pk,
                "bot_id": locked.bot_id,
                "partner_kind": locked.partner_kind,
                "verdict": locked.verdict,
                "confidence": locked.confidence,
                "ratings": locked.ratings,
                "reason": locked.reason,
                "message_count": locked.message_count,
                "created_at": locked.created_at.isoformat(),
            },
            reason=reason,
            excluded_by=excluded_by,
        )
        locked.delete()
    scores_refresh_on_commit(competition_id=exclusion.competition_id)
    return exclusion


def report_create(*, conversation: Conversation, reporter, reason: str) -> Report:
    if conversation.side_of(reporter) is None:
        raise JudgmentNotAllowed("This is not your chat.")
    reason = reason.strip()
    if not reason:
        raise JudgmentInvalid({"reason": "Say what happened."})
    return Report.objects.create(conversation=conversation, reporter=reporter, reason=reason[:MAX_REASON_CHARS])
