"""The counting, done by the database: each function is one aggregate query and returns a few rows per bot.

Querysets are built with the ORM so that the SQL works on Postgres and SQLite; where two levels of grouping are
needed (an evaluator's mean per bot, then per bot) the ORM's SQL is wrapped in a small portable outer query.
"""

import re
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Avg, Case, Count, F, FloatField, Q, QuerySet, Sum, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDate

from chat.models import Conversation, Evaluator, Judgment, Message, PartnerKind
from competitions.models import Competition


def rating(key: str):
    return Cast(KeyTextTransform(key, "ratings"), FloatField())


def overall_rating(keys: list[str]):
    """The mean of a judgment's criterion ratings (NULL if one is missing)."""
    total = rating(keys[0])
    for key in keys[1:]:
        total = total + rating(key)
    return total / Value(float(len(keys)))


HUMAN_VERDICT = Q(verdict=Judgment.Verdict.HUMAN)


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


def exclusion_counts(competition: Competition, exclusions: Exclusions) -> dict[str, int]:
    return all_judgments(competition).aggregate(
        total=Count("id"),
        short=Count("id", filter=exclusions.short),
        bot_failed=Count("id", filter=~exclusions.short & exclusions.bot_failed),
        excluded_evaluator=Count(
            "id", filter=~exclusions.short & ~exclusions.bot_failed & exclusions.excluded_evaluator
        ),
    )


def evaluator_counts(competition: Competition) -> dict[str, int]:
    return Evaluator.objects.filter(competition_id=competition.pk).aggregate(
        total=Count("id"),
        suspended=Count("id", filter=Q(status=Evaluator.Status.SUSPENDED)),
        not_onboarded=Count("id", filter=~Q(status=Evaluator.Status.SUSPENDED) & Q(onboarding_passed_at__isnull=True)),
    )


def per_partner(judgments: QuerySet[Judgment], keys: list[str]) -> list[dict]:
    """Per bot (bot_id None = human partners, the baseline): n, human verdicts, confidence, Σ and Σ² per criterion."""
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
            confidence=Avg("confidence"),
            **criterion_aggregates,
        )
        .order_by()
    )


def per_evaluator(judgments: QuerySet[Judgment]) -> list[dict]:
    return list(
        judgments.values("evaluator_id")
        .annotate(n=Count("id"), correct=Count("id", filter=Q(verdict=F("partner_kind"))))
        .order_by()
    )


def weighted_per_partner(judgments: QuerySet[Judgment]) -> dict[int | None, tuple[float, float, float]]:
    """Per bot: Σw, Σw², Σw·[human], where w is the evaluator's accuracy over the same judgments."""
    accuracy_sql, accuracy_params = (
        judgments.values("evaluator_id")
        .annotate(w=Avg(Case(When(verdict=F("partner_kind"), then=Value(1.0)), default=Value(0.0))))
        .order_by()
        .query.sql_with_params()
    )
    rows_sql, rows_params = judgments.values("bot_id", "evaluator_id", "verdict").order_by().query.sql_with_params()
    # The inner queries are the ORM's own SQL with their parameters kept separate; nothing here is user input.
    sql = (
        "SELECT r.bot_id, SUM(a.w), SUM(a.w * a.w), SUM(CASE WHEN r.verdict = %s THEN a.w ELSE 0 END) "  # noqa: S608
        f"FROM ({rows_sql}) r JOIN ({accuracy_sql}) a ON a.evaluator_id = r.evaluator_id GROUP BY r.bot_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (Judgment.Verdict.HUMAN, *rows_params, *accuracy_params))
        return {bot_id: (float(w or 0), float(w2 or 0), float(wh or 0)) for bot_id, w, w2, wh in cursor.fetchall()}


def agreement_unit_sums(judgments: QuerySet[Judgment], keys: list[str]) -> list[tuple]:
    """For Krippendorff's alpha: unit = bot, coder = evaluator, value = the evaluator's mean rating of that bot.

    Returns per bot: (bot_id, m, Σx, Σx²) for the overall rating, then the same three for each criterion.
    """
    cell_means = {"overall": Avg(overall_rating(keys))}
    for index, key in enumerate(keys):
        cell_means[f"c{index}"] = Avg(rating(key))
    cells_sql, params = (
        judgments.filter(partner_kind=PartnerKind.BOT)
        .values("bot_id", "evaluator_id")
        .annotate(**cell_means)
        .order_by()
        .query.sql_with_params()
    )
    columns = ["overall", *(f"c{index}" for index in range(len(keys)))]
    outer = ", ".join(f"COUNT({c}), SUM({c}), SUM({c} * {c})" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT bot_id, {outer} FROM ({cells_sql}) cells GROUP BY bot_id", params)  # noqa: S608
        return cursor.fetchall()


def per_bot_day(judgments: QuerySet[Judgment]) -> list[dict]:
    """Per bot and UTC day: judgments and human verdicts (no ratings: reading them would double the cost)."""
    return list(
        judgments.filter(partner_kind=PartnerKind.BOT)
        .annotate(day=TruncDate("created_at"))
        .values("bot_id", "day")
        .annotate(n=Count("id"), human=Count("id", filter=HUMAN_VERDICT))
        .order_by()
    )


def chats_per_bot(competition: Competition) -> dict[int, tuple[int, int]]:
    """Per bot: finished chats (ended or bot failed) and bot-failed chats. Active chats are not counted yet."""
    rows = (
        Conversation.objects.filter(competition_id=competition.pk, partner_kind=PartnerKind.BOT)
        .values("bot_id")
        .annotate(
            finished=Count("id", filter=~Q(status=Conversation.Status.ACTIVE)),
            failed=Count("id", filter=Q(status=Conversation.Status.BOT_FAILED)),
        )
        .order_by()
    )
    return {row["bot_id"]: (row["finished"], row["failed"]) for row in rows}


def _bot_replies(competition: Competition) -> QuerySet[Message]:
    return Message.objects.filter(
        conversation__competition_id=competition.pk,
        conversation__partner_kind=PartnerKind.BOT,
        side="b",
        bot_latency_ms__isnull=False,
    )


def median_latency_per_bot(competition: Competition) -> dict[int, float]:
    if connection.vendor == "postgresql":
        return _median_latency_postgres(competition)
    return _median_latency_portable(competition)


def _median_latency_postgres(competition: Competition) -> dict[int, float]:
    sql, params = (
        _bot_replies(competition)
        .annotate(bot_id=F("conversation__bot_id"))
        .values("bot_id", "bot_latency_ms")
        .order_by()
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bot_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY bot_latency_ms) "  # noqa: S608
            f"FROM ({sql}) replies GROUP BY bot_id",
            params,
        )
        return {bot_id: float(median) for bot_id, median in cursor.fetchall()}


def _median_latency_portable(competition: Competition) -> dict[int, float]:
    """Without percentile_cont: count per bot, then let the database fetch the one or two middle values."""
    replies = _bot_replies(competition)
    counts = replies.values("conversation__bot_id").annotate(n=Count("id")).order_by()
    medians = {}
    for row in counts:
        n = row["n"]
        ordered = replies.filter(conversation__bot_id=row["conversation__bot_id"]).order_by("bot_latency_ms")
        middle = list(ordered.values_list("bot_latency_ms", flat=True)[(n - 1) // 2 : n // 2 + 1])
        medians[row["conversation__bot_id"]] = sum(middle) / len(middle)
    return medians


@dataclass(frozen=True)
class JudgmentFigures:
    """Everything the judgments give, in the shapes of the portable queries above."""

    exclusion_counts: dict[str, int]
    partner_rows: list[dict]
    evaluator_rows: list[dict]
    agreement_rows: list[tuple]
    weights: dict[int | None, tuple[float, float, float]] | None


SAFE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def judgment_figures(competition: Competition, exclusions: Exclusions, *, weighted: bool) -> JudgmentFigures:
    """On Postgres one scan of the judgments; elsewhere (SQLite, or unusual criterion keys) the portable queries."""
    keys = competition.criteria_keys
    if connection.vendor == "postgresql" and all(SAFE_KEY.match(key) for key in keys):
        return _judgment_figures_single_scan(competition, keys, weighted=weighted)
    valid = valid_judgments(competition, exclusions)
    counted = counted_judgments(competition, exclusions)
    return JudgmentFigures(
        exclusion_counts=exclusion_counts(competition, exclusions),
        partner_rows=per_partner(counted, keys),
        evaluator_rows=per_evaluator(valid),
        agreement_rows=agreement_unit_sums(counted, keys),
        weights=weighted_per_partner(counted) if weighted else None,
    )


def _judgment_figures_single_scan(competition: Competition, keys: list[str], *, weighted: bool) -> JudgmentFigures:
    """Read every judgment once into per (bot, evaluator, exclusion) cells, then derive all figures from the cells.

    The cells hold counts, sums and sums of squares, so per-bot, per-evaluator and agreement figures are exact.
    jsonb_to_record parses each ratings object once instead of once per criterion and aggregate; the keys are
    checked against SAFE_KEY before they are written into the SQL as identifiers.
    """
    judgment, conversation, evaluator = (
        Judgment._meta.db_table,
        Conversation._meta.db_table,
        Evaluator._meta.db_table,
    )
    record = ", ".join(f'"{key}" float8' for key in keys)
    rating_sums = ", ".join(
        f'COUNT(r."{key}") AS c{i}_n, SUM(r."{key}") AS c{i}_sum, SUM(r."{key}" * r."{key}") AS c{i}_sumsq'
        for i, key in enumerate(keys)
    )
    overall = "(" + " + ".join(f'r."{key}"' for key in keys) + f") / {len(keys)}.0"
    cells_sql = f"""
        CREATE TEMPORARY TABLE lb_cells ON COMMIT DROP AS
        SELECT j.bot_id, j.evaluator_id,
            CASE WHEN j.message_count < %(min_turns)s THEN 'short'
                 WHEN j.conversation_id IN (
                     SELECT id FROM {conversation} WHERE competition_id = %(competition)s AND status = %(failed)s
                 ) THEN 'bot_failed'
                 ELSE '' END AS excluded,
            j.evaluator_id IN (
                SELECT user_id FROM {evaluator} WHERE competition_id = %(competition)s
                AND (status = %(suspended)s OR onboarding_passed_at IS NULL)
            ) AS evaluator_excluded,
            COUNT(*) AS n,
            COUNT(*) FILTER (WHERE j.verdict = %(human)s) AS human,
            COUNT(*) FILTER (WHERE j.verdict = j.partner_kind) AS correct,
            SUM(j.confidence) AS confidence_sum,
            COUNT({overall}) AS overall_n, SUM({overall}) AS overall_sum,
            {rating_sums}
        FROM {judgment} j CROSS JOIN LATERAL jsonb_to_record(j.ratings) AS r({record})
        WHERE j.competition_id = %(competition)s
        GROUP BY 1, 2, 3, 4
    """  # noqa: S608
    params = {
        "competition": competition.pk,
        "min_turns": competition.min_turns_to_count,
        "failed": Conversation.Status.BOT_FAILED,
        "suspended": Evaluator.Status.SUSPENDED,
        "human": Judgment.Verdict.HUMAN,
    }
    counted = "excluded = '' AND NOT evaluator_excluded"
    criterion_totals = ", ".join(
        f"SUM(c{i}_n)::bigint AS c{i}_n, SUM(c{i}_sum) AS c{i}_sum, SUM(c{i}_sumsq) AS c{i}_sumsq"
        for i in range(len(keys))
    )
    means = ["overall_sum / NULLIF(overall_n, 0)"] + [f"c{i}_sum / NULLIF(c{i}_n, 0)" for i in range(len(keys))]
    agreement_sums = ", ".join(f"COUNT(m{i}), SUM(m{i}), SUM(m{i} * m{i})" for i in range(len(means)))
    mean_columns = ", ".join(f"{mean} AS m{i}" for i, mean in enumerate(means))
    with transaction.atomic(), connection.cursor() as cursor:
        # The cells (about one per bot and evaluator) should hash in memory rather than spill to disk.
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute("DROP TABLE IF EXISTS lb_cells")
        cursor.execute(cells_sql, params)
        cursor.execute(
            "SELECT excluded, evaluator_excluded, SUM(n) FROM lb_cells GROUP BY excluded, evaluator_excluded"
        )
        by_reason = cursor.fetchall()
        cursor.execute(
            "SELECT bot_id, SUM(n)::bigint AS n, SUM(human)::bigint AS human, "  # noqa: S608
            f"SUM(confidence_sum)::float8 / SUM(n) AS confidence, {criterion_totals} "
            f"FROM lb_cells WHERE {counted} GROUP BY bot_id"
        )
        partner_columns = [column.name for column in cursor.description]
        partner_rows = [dict(zip(partner_columns, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute(
            "SELECT evaluator_id, SUM(n), SUM(correct) FROM lb_cells WHERE excluded = '' GROUP BY evaluator_id"
        )
        evaluator_rows = [
            {"evaluator_id": evaluator_id, "n": int(n), "correct": int(correct)}
            for evaluator_id, n, correct in cursor.fetchall()
        ]
        cursor.execute(
            f"SELECT bot_id, {agreement_sums} FROM (SELECT bot_id, {mean_columns} FROM lb_cells "  # noqa: S608
            f"WHERE {counted} AND bot_id IS NOT NULL) means GROUP BY bot_id"
        )
        agreement_rows = cursor.fetchall()
        weights = None
        if weighted:
            cursor.execute(
                "WITH accuracy AS (SELECT evaluator_id, SUM(correct)::float8 / SUM(n) AS w FROM lb_cells "  # noqa: S608
                f"WHERE {counted} GROUP BY evaluator_id) "
                "SELECT c.bot_id, SUM(c.n * a.w), SUM(c.n * a.w * a.w), SUM(c.human * a.w) "
                f"FROM lb_cells c JOIN accuracy a USING (evaluator_id) WHERE {counted} GROUP BY c.bot_id"
            )
            weights = {bot_id: (float(w or 0), float(w2 or 0), float(wh or 0)) for bot_id, w, w2, wh in cursor}
        cursor.execute("DROP TABLE lb_cells")
    return JudgmentFigures(
        exclusion_counts=_exclusion_totals(by_reason),
        partner_rows=partner_rows,
        evaluator_rows=evaluator_rows,
        agreement_rows=agreement_rows,
        weights=weights,
    )


def _exclusion_totals(by_reason: list[tuple]) -> dict[str, int]:
    totals = {"total": 0, "short": 0, "bot_failed": 0, "excluded_evaluator": 0}
    for excluded, evaluator_excluded, n in by_reason:
        totals["total"] += int(n)
        if excluded:
            totals[excluded] += int(n)
        elif evaluator_excluded:
            totals["excluded_evaluator"] += int(n)
    return totals
