"""Reads for the review pages, CSV and API."""

from dataclasses import dataclass

from django.db.models import Count, Q

from chat.models import Conversation, Message
from competitions.models import Competition
from leaderboard.chart import Chart, interval_chart

from .models import ReviewAssignment, ReviewSettings, ReviewSnapshot, Strike

INTERROGATOR = "a"


@dataclass(frozen=True)
class TranscriptLine:
    is_interrogator: bool
    text: str


@dataclass(frozen=True)
class ReviewerProgress:
    reviewer_id: int
    username: str
    done: int
    pending: int
    strikes: int
    stopped: bool
    evidence: list[Strike]


def assignment_for_display(*, assignment: ReviewAssignment) -> dict:
    """What was said, as delivered, without names or timing: side a (the chatting evaluator) is the Interrogator,
    side b the Witness. Timing and aliases are left out because they could tell a bot from a human."""
    left_id, right_id = assignment.left_right
    lines: dict[int, list[TranscriptLine]] = {left_id: [], right_id: []}
    for conversation_id, side, text in (
        Message.objects.filter(conversation_id__in=[c for c in (left_id, right_id) if c is not None])
        .order_by("conversation_id", "seq")
        .values_list("conversation_id", "side", "delivered_text")
    ):
        lines[conversation_id].append(TranscriptLine(is_interrogator=side == INTERROGATOR, text=text))
    return {
        "assignment": assignment,
        "kind": assignment.item.kind,
        "left": lines[left_id],
        "right": lines[right_id] if right_id is not None else None,
    }


def gold_answers_per_evaluator(*, competition_id: int) -> dict[int, tuple[int, int]]:
    """Per evaluator: the gold items they answered in this competition and how many of those wrongly, whether met as
    attention checks in the evaluate flow or on the review page. The leaderboard's "failed attention checks" rule
    (leaderboard.rater_quality) counts them."""
    rows = (
        ReviewAssignment.objects.filter(
            competition_id=competition_id, status=ReviewAssignment.Status.DONE, item__gold__isnull=False
        )
        .values("reviewer_id")
        .annotate(answered=Count("id"), failed=Count("strike"))
        .order_by()
        .values_list("reviewer_id", "answered", "failed")
    )
    return {reviewer_id: (answered, failed) for reviewer_id, answered, failed in rows}


def attention_check_plan(*, competition_id: int) -> dict | None:
    """The attention checks of the evaluate flow as the analysis plan declares them; None when there are none."""
    review_settings = ReviewSettings.objects.filter(competition_id=competition_id).first()
    return review_settings.attention_check_plan() if review_settings is not None else None


def review_snapshot(*, competition: Competition) -> ReviewSnapshot | None:
    return ReviewSnapshot.objects.filter(competition=competition).first()


def review_chart(*, snapshot: ReviewSnapshot | None) -> Chart | None:
    """Each witness's chance of sounding more human than the human witness (the anchor, drawn at one half)."""
    if snapshot is None:
        return None
    entries = [
        (row["name"], row["p_vs_human"], row["p_vs_human_low"], row["p_vs_human_high"], row["is_baseline"])
        for row in snapshot.witnesses
        if row.get("p_vs_human") is not None and not row["is_human"]
    ]
    if not entries:
        return None
    return interval_chart(entries, baseline=(0.5, 0.5, 0.5))


def review_progress(*, competition: Competition) -> dict:
    """For organizers: how far review has come, and each reviewer's standing with the evidence of their strikes."""
    review_settings = ReviewSettings.objects.filter(competition=competition).first()
    limit = review_settings.strike_limit if review_settings else 0
    assignments = ReviewAssignment.objects.filter(competition=competition)
    per_reviewer = (
        assignments.values("reviewer_id", "reviewer__username")
        .annotate(
            done=Count("id", filter=Q(status=ReviewAssignment.Status.DONE)),
            pending=Count("id", filter=Q(status=ReviewAssignment.Status.PENDING)),
        )
        .order_by("reviewer__username")
    )
    strikes: dict[int, list[Strike]] = {}
    for strike in (
        Strike.objects.filter(competition=competition).select_related("assignment__item").order_by("created_at")
    ):
        strikes.setdefault(strike.reviewer_id, []).append(strike)
    reviewers = [
        ReviewerProgress(
            reviewer_id=row["reviewer_id"],
            username=row["reviewer__username"],
            done=row["done"],
            pending=row["pending"],
            strikes=len(strikes.get(row["reviewer_id"], [])),
            stopped=len(strikes.get(row["reviewer_id"], [])) > limit,
            evidence=strikes.get(row["reviewer_id"], []),
        )
        for row in per_reviewer
    ]
    k = review_settings.reviews_per_transcript if review_settings else 0
    items = (
        competition.review_items.filter(gold__isnull=True)
        .annotate(done=Count("assignments", filter=Q(assignments__status=ReviewAssignment.Status.DONE)))
        .values_list("kind", "done")
    )
    totals = {"single": [0, 0], "pairwise": [0, 0]}
    for kind, done in items:
        totals[kind][0] += 1
        totals[kind][1] += int(done >= k)
    return {
        "settings": review_settings,
        "reviewers": reviewers,
        "flagged": [reviewer for reviewer in reviewers if reviewer.strikes],
        "items": totals,
        "reviews_done": sum(reviewer.done for reviewer in reviewers),
        "reviewable_chats": Conversation.objects.filter(
            competition=competition, status=Conversation.Status.ENDED, last_seq__gte=competition.min_turns_to_count
        ).count(),
    }


CSV_COLUMNS = [
    "rank",
    "name",
    "team",
    "is_baseline",
    "is_human",
    "comparisons",
    "wins",
    "strength",
    "low",
    "high",
    "p_vs_human",
    "p_vs_human_low",
    "p_vs_human_high",
]


def csv_rows(*, snapshot: ReviewSnapshot | None) -> list[list]:
    if snapshot is None:
        return []
    return [
        ["" if row.get(column) is None else row.get(column) for column in CSV_COLUMNS] for row in snapshot.witnesses
    ]
