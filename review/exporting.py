"""Review judgments in the dataset exports: one row per review, pseudonymous under the export's own salt.

Reviewers get the same `E-...` pseudonym as evaluators (a person who chatted and reviewed is one pseudonym) and
chats the same `C-...` pseudonym as in the conversations table, so rows join. A review is exported only when
every chat it judged is in the export (a team's copy holds no review of another team's chat).
"""

from collections.abc import Callable

import pyarrow as pa

from competitions.models import Competition

from .models import PairwiseReview, SingleReview

# (name, type, meaning): the exports app turns these into its columns and the datasheet's field table.
REVIEW_COLUMNS = [
    ("review_kind", pa.string(), '"single" (one transcript) or "pairwise" (two side by side).'),
    ("reviewer", pa.string(), "Pseudonym of the reviewer (the same pseudonym as that person's chats and judgments)."),
    ("conversation", pa.string(), "The reviewed chat (single), or the chat shown on the left (pairwise)."),
    ("other_conversation", pa.string(), "Pairwise: the chat shown on the right. Empty for single reviews."),
    ("verdict", pa.string(), 'Single: what the reviewer decided the witness was, "human" or "bot".'),
    ("correct", pa.bool_(), "Single: True if the verdict matches the witness's real kind."),
    ("confidence", pa.int8(), "Single: confidence 1 (guess) to 5 (certain)."),
    ("chosen", pa.string(), "Pairwise: the chat whose witness the reviewer found more human."),
    ("chosen_side", pa.string(), 'Pairwise: "left" or "right", as shown (sides were randomised per reviewer).'),
    ("reason", pa.string(), "The reviewer's free-text reason."),
    ("gold", pa.bool_(), "True for a gold item (known answer, an attention check): not counted in the figures."),
    ("between_chats", pa.bool_(), "True for an attention check shown between two chats of the evaluate flow."),
    ("created_at", pa.timestamp("us", tz="UTC"), "When the review was saved (UTC)."),
]
REVIEW_SCHEMA = pa.schema([(name, kind) for name, kind, _ in REVIEW_COLUMNS])

Pseudonymize = Callable[[str, object], str]


def review_rows(*, competition: Competition, conversation_ids: set[int], pseudonymize: Pseudonymize) -> list[dict]:
    def chat(conversation_id):
        return None if conversation_id is None else pseudonymize("conversation", conversation_id)

    rows = []
    singles = (
        SingleReview.objects.filter(competition=competition)
        .select_related("assignment__item", "conversation")
        .order_by("id")
    )
    for review in singles.iterator(chunk_size=2000):
        if review.conversation_id not in conversation_ids:
            continue
        rows.append(
            {
                "review_kind": "single",
                "reviewer": pseudonymize("evaluator", review.reviewer_id),
                "conversation": chat(review.conversation_id),
                "other_conversation": None,
                "verdict": review.verdict,
                "correct": review.verdict == review.conversation.partner_kind,
                "confidence": review.confidence,
                "chosen": None,
                "chosen_side": None,
                "reason": review.reason,
                "gold": review.assignment.item.gold_id is not None,
                "between_chats": review.assignment.attention_check,
                "created_at": review.created_at,
            }
        )
    pairs = PairwiseReview.objects.filter(competition=competition).select_related("assignment__item").order_by("id")
    for review in pairs.iterator(chunk_size=2000):
        if review.chosen_id not in conversation_ids or review.other_id not in conversation_ids:
            continue
        left, right = review.assignment.left_right
        rows.append(
            {
                "review_kind": "pairwise",
                "reviewer": pseudonymize("evaluator", review.reviewer_id),
                "conversation": chat(left),
                "other_conversation": chat(right),
                "verdict": None,
                "correct": None,
                "confidence": None,
                "chosen": chat(review.chosen_id),
                "chosen_side": review.chosen_side,
                "reason": review.reason,
                "gold": review.assignment.item.gold_id is not None,
                "between_chats": review.assignment.attention_check,
                "created_at": review.created_at,
            }
        )
    return rows


def review_batch(*, competition: Competition, conversation_ids: set[int], pseudonymize: Pseudonymize) -> pa.RecordBatch:
    rows = review_rows(competition=competition, conversation_ids=conversation_ids, pseudonymize=pseudonymize)
    return pa.RecordBatch.from_pylist(rows, schema=REVIEW_SCHEMA)
