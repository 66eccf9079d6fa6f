"""The counting, done by the database.

On Postgres the counts come from the running tallies that triggers keep (leaderboard.tallies): a recompute reads a few
thousand rows whatever the number of judgments. Elsewhere (SQLite, the embedded default) portable ORM queries over the
judgments return rows of the same shape; tests check the two agree.
"""

from dataclasses import dataclass
from datetime import UTC, timedelta

import numpy as np
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate

from chat.models import Conversation, Evaluator, Judgment, Message, PartnerKind
from competitions.models import BotCall, Competition

from . import tallies
from .rater_quality import ExclusionRules, Pattern

HUMAN_VERDICT = Q(verdict=Judgment.Verdict.HUMAN)


def rating(key: str):
    return Cast(KeyTextTransform(key, "ratings"), FloatField())


@dataclass(frozen=True)
class Exclusions:
    """Filters for the judgments that do not count; each excluded judgment is counted under its first reason."""

    short: Q
    bot_failed: Q
    excluded_evaluator: Q

    @classmethod
    def for_competition(cls, competition: Competition) -> "Exclusions":
        failed_chats = Conversation.objects.filter(
            competition_id=competition.pk, status=Conversation.Status.BOT_FAILED
        ).values("id")
        return cls(
            short=Q(message_count__lt=competition.min_turns_to_count),
            bot_failed=Q(conversation_id__in=failed_chats),
            excluded_evaluator=Q(evaluator_id__in=excluded_evaluators(competition).values("user_id")),
        )


def excluded_evaluators(competition: Competition) -> QuerySet[Evaluator]:
    """Suspended evaluators and those who have not passed the onboarding checks."""
    return Evaluator.objects.filter(competition_id=competition.pk).filter(
        Q(status=Evaluator.Status.SUSPENDED) | Q(onboarding_passed_at__isnull=True)
    )


def all_judgments(competition: Competition) -> QuerySet[Judgment]:
    return Judgment.objects.filter(competition_id=competition.pk)


def valid_judgments(competition: Competition, exclusions: Exclusions) -> QuerySet[Judgment]:
    """Judgments of judgeable chats: not too short, bot did not fail. Evaluators' standing not yet applied."""
    return all_judgments(competition).exclude(exclusions.short).exclude(exclusions.bot_failed)


def counted_judgments(competition: Competition, exclusions: Exclusions) -> QuerySet[Judgment]:
    return valid_judgments(competition, exclusions).exclude(exclusions.excluded_evaluator)


def evaluator_counts(competition: Competition) -> dict[str, int]:
    return Evaluator.objects.filter(competition_id=competition.pk).aggregate(
        total=Count("id"),
        suspended=Count("id", filter=Q(status=Evaluator.Status.SUSPENDED)),
        not_onboarded=Count("id", filter=~Q(status=Evaluator.Status.SUSPENDED) & Q(onboarding_passed_at__isnull=True)),
    )


@dataclass(frozen=True)
class JudgmentFigures:
    """What the tallies (or the portable queries) give.

    daily_rows: per bot (bots only) and UTC day over counted judgments: bot_id, day, n, human.
    evaluator_rows: per evaluator over valid judgments (their own standing not applied): evaluator_id, n, correct.
    """

    exclusion_counts: dict[str, int]
    daily_rows: list[dict]
    evaluator_rows: list[dict]


def judgment_figures(competition: Competition, exclusions: Exclusions) -> JudgmentFigures:
    """From the tallies on Postgres; elsewhere from the portable queries."""
    if tallies.tallies_kept():
        return JudgmentFigures(
            exclusion_counts=tallies.exclusion_counts(competition.pk),
            daily_rows=tallies.per_bot_day(competition.pk),
            evaluator_rows=tallies.per_evaluator(competition.pk),
        )
    return JudgmentFigures(
        exclusion_counts=exclusion_counts(competition, exclusions),
        daily_rows=per_bot_day(counted_judgments(competition, exclusions)),
        evaluator_rows=per_evaluator(valid_judgments(competition, exclusions)),
    )


@dataclass(frozen=True)
class EvaluatorFigures:
    """cells: per evaluator and partner over counted judgments, the columns of per_evaluator_partner as a float
    array (a human partner's bot_id is NaN, a missing sum 0); patterns: per evaluator over valid judgments (see
    evaluator_patterns)."""

    cells: np.ndarray
    patterns: dict[int, Pattern]


def cells_array(rows: list[tuple], keys: list[str]) -> np.ndarray:
    """per_evaluator_partner's rows as a float array: None bot_id → NaN, None sums → 0."""
    width = 5 + 2 * len(keys)
    if not rows:
        return np.zeros((0, width))
    array = np.array(rows, dtype=object)
    bot = array[:, 1]
    array[:, 1] = np.where(bot == None, np.nan, bot)  # noqa: E711 (elementwise comparison)
    array[:, 2:] = np.where(array[:, 2:] == None, 0, array[:, 2:])  # noqa: E711
    return array.astype(float)


def evaluator_figures(competition: Competition, exclusions: Exclusions, rules: ExclusionRules) -> EvaluatorFigures:
    """The per-evaluator rows the bootstrap resamples and the response patterns the flags read: from the tallies on
    Postgres (a few hundred thousand rows for a million judgments); elsewhere from the portable queries."""
    keys = competition.criteria_keys
    if tallies.tallies_kept():
        return EvaluatorFigures(
            cells=tallies.evaluator_partner_cells(competition.pk, len(keys)), patterns=tallies.patterns(competition.pk)
        )
    patterns = evaluator_patterns(valid_judgments(competition, exclusions), rules, keys[0] if keys else None)
    cells = cells_array(per_evaluator_partner(counted_judgments(competition, exclusions), keys), keys)
    return EvaluatorFigures(cells=cells, patterns=patterns)


def per_evaluator_partner(judgments: QuerySet[Judgment], keys: list[str]) -> list[tuple]:
    """Per evaluator and partner (bot_id; None = human partners): evaluator_id, bot_id, n, human, confidence_sum,
    then per criterion its count and sum. The cluster bootstrap resamples these rows' evaluators."""
    criterion_aggregates = {}
    for index, key in enumerate(keys):
        criterion_aggregates[f"c{index}_n"] = Count(rating(key))
        criterion_aggregates[f"c{index}_sum"] = Sum(rating(key))
    return list(
        judgments.values("evaluator_id", "bot_id")
        .annotate(
            n=Count("id"),
            human=Count("id", filter=HUMAN_VERDICT),
            confidence_sum=Sum("confidence"),
            **criterion_aggregates,
        )
        .order_by()
        .values_list("evaluator_id", "bot_id", "n", "human", "confidence_sum", *criterion_aggregates)
    )


def evaluator_patterns(
    judgments: QuerySet[Judgment], rules: ExclusionRules, first_criterion: str | None
) -> dict[int, Pattern]:
    """Per evaluator, the response pattern of their judgments (rater_quality.Pattern), counted with the rules'
    thresholds: verdicts, distinct ratings, judgments sent within fast_seconds of the chat's end, chats with at most
    silent_max_messages of their own messages, and their first-criterion ratings by verdict."""
    own_messages = (
        Message.objects.filter(conversation_id=OuterRef("conversation_id"), side=OuterRef("own_side"))
        .order_by()
        .values("conversation_id")
        .annotate(count=Count("id"))
        .values("count")
    )
    bot_verdict = ~HUMAN_VERDICT
    by_verdict = {}
    if first_criterion is not None:
        first = rating(first_criterion)
        by_verdict = {
            "human_n": Count(first, filter=HUMAN_VERDICT),
            "human_sum": Sum(first, filter=HUMAN_VERDICT),
            "bot_n": Count(first, filter=bot_verdict),
            "bot_sum": Sum(first, filter=bot_verdict),
        }
    rows = (
        judgments.annotate(
            own_side=Case(
                When(conversation__evaluator_a_id=F("evaluator_id"), then=Value("a")),
                default=Value("b"),
                output_field=CharField(),
            )
        )
        .annotate(own=Coalesce(Subquery(own_messages, output_field=IntegerField()), Value(0)))
        .annotate(
            is_silent=Case(
                When(own__lte=rules.silent_max_messages, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
        .values("evaluator_id")
        .annotate(
            n=Count("id"),
            human=Count("id", filter=HUMAN_VERDICT),
            distinct_ratings=Count("ratings", distinct=True),
            fast=Count(
                "id",
                filter=Q(created_at__lt=F("conversation__ended_at") + timedelta(seconds=rules.fast_seconds)),
            ),
            silent=Sum("is_silent"),
            **by_verdict,
        )
        .order_by()
    )
    return {
        row["evaluator_id"]: Pattern(
            judgments=row["n"],
            human_verdicts=row["human"],
            distinct_ratings=row["distinct_ratings"],
            fast=row["fast"],
            silent=row["silent"] or 0,
            human_verdict_rating_n=row.get("human_n") or 0,
            human_verdict_rating_sum=float(row.get("human_sum") or 0),
            bot_verdict_rating_n=row.get("bot_n") or 0,
            bot_verdict_rating_sum=float(row.get("bot_sum") or 0),
        )
        for row in rows
    }


# The portable queries (SQLite, and the reference the Postgres scans are tested against).


def exclusion_counts(competition: Competition, exclusions: Exclusions) -> dict[str, int]:
    return all_judgments(competition).aggregate(
        total=Count("id"),
        short=Count("id", filter=exclusions.short),
        bot_failed=Count("id", filter=~exclusions.short & exclusions.bot_failed),
        excluded_evaluator=Count(
            "id", filter=~exclusions.short & ~exclusions.bot_failed & exclusions.excluded_evaluator
        ),
    )


def per_partner(judgments: QuerySet[Judgment], keys: list[str]) -> list[dict]:
    criterion_aggregates = {}
    for index, key in enumerate(keys):
        criterion_aggregates[f"c{index}_n"] = Count(rating(key))
        criterion_aggregates[f"c{index}_sum"] = Sum(rating(key))
        criterion_aggregates[f"c{index}_sumsq"] = Sum(rating(key) * rating(key))
    return list(
        judgments.values("bot_id")
        .annotate(
            n=Count("id"),
            human=Count("id", filter=HUMAN_VERDICT),
            confidence_sum=Sum("confidence"),
            **criterion_aggregates,
        )
        .order_by()
    )


def per_bot_day(judgments: QuerySet[Judgment]) -> list[dict]:
    return list(
        judgments.filter(partner_kind=PartnerKind.BOT)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("bot_id", "day")
        .annotate(n=Count("id"), human=Count("id", filter=HUMAN_VERDICT))
        .order_by()
    )


def per_evaluator(judgments: QuerySet[Judgment]) -> list[dict]:
    return list(
        judgments.values("evaluator_id")
        .annotate(n=Count("id"), correct=Count("id", filter=Q(verdict=F("partner_kind"))))
        .order_by()
    )


def chats_per_bot(competition: Competition) -> dict[int, tuple[int, int]]:
    """Per bot: finished two-party chats (ended or bot failed) and bot-failed ones. Active chats are not counted yet;
    the bot conversation of a three-party game is the game's (leaderboard.three_party_stats), not a two-party chat."""
    if tallies.tallies_kept():
        return tallies.chats_per_bot(competition.pk)
    rows = (
        Conversation.objects.filter(
            competition_id=competition.pk, partner_kind=PartnerKind.BOT, game_as_bot__isnull=True
        )
        .values("bot_id")
        .annotate(
            finished=Count("status", filter=~Q(status=Conversation.Status.ACTIVE)),
            failed=Count("status", filter=Q(status=Conversation.Status.BOT_FAILED)),
        )
        .order_by()
    )
    return {row["bot_id"]: (row["finished"], row["failed"]) for row in rows}


def _answered_turns(competition: Competition) -> QuerySet[BotCall]:
    """Chat turns the bot answered: the chat records every turn call with its latency (competitions.health)."""
    return BotCall.objects.filter(
        bot__competition_id=competition.pk, purpose=BotCall.Purpose.TURN, ok=True, latency_ms__isnull=False
    )


def median_latency_per_bot(competition: Competition) -> dict[int, float]:
    """On Postgres from the latency histograms (within 0.5%); elsewhere exact, from the answered turn calls."""
    if tallies.tallies_kept():
        return tallies.median_latency_per_bot(competition.pk)
    return _median_latency_portable(competition)


def _median_latency_portable(competition: Competition) -> dict[int, float]:
    """Without percentile_cont: count per bot, then let the database fetch the one or two middle values."""
    turns = _answered_turns(competition)
    medians = {}
    for row in turns.values("bot_id").annotate(n=Count("id")).order_by():
        n = row["n"]
        ordered = turns.filter(bot_id=row["bot_id"]).order_by("latency_ms")
        middle = list(ordered.values_list("latency_ms", flat=True)[(n - 1) // 2 : n // 2 + 1])
        medians[row["bot_id"]] = sum(middle) / len(middle)
    return medians
