"""Recomputing a competition's leaderboard, and scheduling that recompute without flooding the workers."""

import time

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone

from competitions.models import Bot, Competition

from . import aggregates, stats
from .models import BotDailyScore, BotScore, EvaluatorScore, LeaderboardSnapshot

RECOMPUTE_DEBOUNCE_SECONDS = getattr(settings, "LEADERBOARD_DEBOUNCE_SECONDS", 5)


def debounce_key(competition_id: int) -> str:
    return f"lb-recompute:{competition_id}"


def recompute_schedule(*, competition_id: int) -> None:
    """Queue one recompute for a burst of judgments.

    The first call of a burst adds the cache key and queues the task with a countdown; later calls find the key
    and do nothing. The task deletes the key before it reads, so a judgment committed after the read starts
    queues the next run. With eager Celery (the embedded default) the computation happens right away.
    """
    from .tasks import competition_recompute_task

    if competition_recompute_task.app.conf.task_always_eager:
        competition_recompute(competition_id=competition_id)
        return
    if cache.add(debounce_key(competition_id), 1, timeout=RECOMPUTE_DEBOUNCE_SECONDS * 4):
        competition_recompute_task.apply_async(args=[competition_id], countdown=RECOMPUTE_DEBOUNCE_SECONDS)


def competitions_to_refresh() -> list[int]:
    """For the beat safety net: competitions never computed, evaluating, or with judgments since the last run.

    Evaluating competitions are always refreshed because exclusions (a suspension, a bot-failed chat) change
    figures without a new judgment.
    """
    ids = []
    for competition in Competition.objects.visible().select_related("leaderboard"):
        snapshot = getattr(competition, "leaderboard", None)
        if (
            snapshot is None
            or competition.is_evaluating
            or competition.judgments.filter(created_at__gt=snapshot.computed_at).exists()
        ):
            ids.append(competition.pk)
    return ids


def _criteria_figures(row: dict, keys: list[str]) -> dict:
    figures = {}
    for index, key in enumerate(keys):
        interval = stats.mean_t_interval(
            row[f"c{index}_n"], float(row[f"c{index}_sum"] or 0), float(row[f"c{index}_sumsq"] or 0)
        )
        figures[key] = {
            "n": row[f"c{index}_n"],
            "mean": interval.estimate if interval else None,
            "low": interval.low if interval else None,
            "high": interval.high if interval else None,
        }
    return figures


def _pass_rate(row: dict | None, weights: tuple[float, float, float] | None) -> tuple[float, float, stats.Interval]:
    """Human verdicts, effective n and the Wilson interval, weighted by evaluator accuracy when weights are given."""
    if row is None:
        return 0.0, 0.0, None
    if weights is None:
        return float(row["human"]), float(row["n"]), stats.wilson_interval(row["human"], row["n"])
    sum_w, sum_w2, weighted_human = weights
    interval, effective_n = stats.weighted_proportion_interval(weighted_human, sum_w, sum_w2)
    judged_human = interval.estimate * effective_n if interval else 0.0
    return judged_human, effective_n, interval


def _agreement(partner_rows: dict, keys: list[str]) -> tuple[float | None, dict, int, int]:
    """Krippendorff's alpha per criterion from the per-bot sums: unit = bot, every counted rating a value.

    The headline alpha is the first criterion's (human-likeness by default); units and values are its pairable ones.
    """
    by_criterion = {}
    units_of = {}
    for index, key in enumerate(keys):
        units = [
            stats.UnitSums(
                count=int(row[f"c{index}_n"] or 0),
                total=float(row[f"c{index}_sum"] or 0),
                total_sq=float(row[f"c{index}_sumsq"] or 0),
            )
            for bot_id, row in partner_rows.items()
            if bot_id is not None
        ]
        by_criterion[key] = stats.krippendorff_alpha_interval_from_sums(units)
        units_of[key] = [unit for unit in units if unit.count >= 2]
    if not keys:
        return None, {}, 0, 0
    headline = units_of[keys[0]]
    return by_criterion[keys[0]], by_criterion, len(headline), sum(unit.count for unit in headline)


def competition_recompute(*, competition_id: int) -> LeaderboardSnapshot:
    """Compute every figure of one competition from its judgments and store it. Idempotent: same input, same rows."""
    started = time.perf_counter()
    competition = Competition.objects.get(pk=competition_id)
    keys = competition.criteria_keys
    exclusions = aggregates.Exclusions.for_competition(competition)
    figures = aggregates.judgment_figures(competition, exclusions, weighted=competition.weight_evaluators_by_accuracy)
    excluded_counts = figures.exclusion_counts
    evaluator_counts = aggregates.evaluator_counts(competition)
    partner_rows = {row["bot_id"]: row for row in figures.partner_rows}
    weights = figures.weights
    evaluator_rows = figures.evaluator_rows
    exclusion_of = {
        user_id: (
            EvaluatorScore.Exclusion.SUSPENDED if status == "suspended" else EvaluatorScore.Exclusion.NOT_ONBOARDED
        )
        for user_id, status in aggregates.excluded_evaluators(competition).values_list("user_id", "status")
    }
    alpha, alpha_by_criterion, alpha_units, alpha_values = _agreement(partner_rows, keys)
    chats = aggregates.chats_per_bot(competition)
    latency = aggregates.median_latency_per_bot(competition)
    bots = list(Bot.objects.filter(competition_id=competition.pk).only("id", "name", "is_baseline"))

    computed_at = timezone.now()
    bot_scores = []
    for bot in bots:
        row = partner_rows.get(bot.pk)
        judged_human, effective_n, interval = _pass_rate(row, weights.get(bot.pk) if weights is not None else None)
        finished, failed = chats.get(bot.pk, (0, 0))
        bot_scores.append(
            BotScore(
                bot=bot,
                competition_id=competition.pk,
                computed_at=computed_at,
                position=0,
                chats=finished,
                failed_chats=failed,
                failure_rate=failed / finished if finished else None,
                judgments=row["n"] if row else 0,
                judged_human=judged_human,
                effective_n=effective_n,
                pass_rate=interval.estimate if interval else None,
                pass_low=interval.low if interval else None,
                pass_high=interval.high if interval else None,
                mean_confidence=float(row["confidence_sum"]) / row["n"] if row and row["n"] else None,
                criteria=_criteria_figures(row, keys) if row else {},
                median_latency_ms=latency.get(bot.pk),
            )
        )
    _assign_positions_and_ranks(bot_scores)

    baseline_row = partner_rows.get(None)
    baseline_human, baseline_n, baseline = _pass_rate(baseline_row, weights.get(None) if weights is not None else None)
    snapshot_fields = {
        "computed_at": computed_at,
        "weighted_by_accuracy": competition.weight_evaluators_by_accuracy,
        "criteria": [{"key": c["key"], "label": c.get("label", c["key"])} for c in competition.criteria],
        "judgments_total": excluded_counts["total"],
        "judgments_counted": excluded_counts["total"]
        - excluded_counts["short"]
        - excluded_counts["bot_failed"]
        - excluded_counts["excluded_evaluator"],
        "excluded_short_judgments": excluded_counts["short"],
        "excluded_bot_failed_judgments": excluded_counts["bot_failed"],
        "excluded_evaluator_judgments": excluded_counts["excluded_evaluator"],
        "bot_failed_chats": sum(failed for _finished, failed in chats.values()),
        "evaluators_total": evaluator_counts["total"],
        "evaluators_counted": sum(1 for row in evaluator_rows if row["evaluator_id"] not in exclusion_of),
        "evaluators_suspended": evaluator_counts["suspended"],
        "evaluators_not_onboarded": evaluator_counts["not_onboarded"],
        "baseline_judgments": baseline_row["n"] if baseline_row else 0,
        "baseline_judged_human": baseline_human,
        "baseline_effective_n": baseline_n,
        "baseline_rate": baseline.estimate if baseline else None,
        "baseline_low": baseline.low if baseline else None,
        "baseline_high": baseline.high if baseline else None,
        "alpha": alpha,
        "alpha_by_criterion": alpha_by_criterion,
        "alpha_units": alpha_units,
        "alpha_values": alpha_values,
    }
    daily_scores = []
    for row in figures.daily_rows:
        interval = stats.wilson_interval(row["human"], row["n"])
        daily_scores.append(
            {
                "bot_id": row["bot_id"],
                "day": row["day"],
                "judgments": row["n"],
                "judged_human": row["human"],
                "pass_rate": interval.estimate,
                "pass_low": interval.low,
                "pass_high": interval.high,
            }
        )
    evaluator_scores = [
        {
            "competition_id": competition.pk,
            "user_id": row["evaluator_id"],
            "judgments": row["n"],
            "correct": row["correct"],
            "accuracy": row["correct"] / row["n"],
            "exclusion": exclusion_of.get(row["evaluator_id"], EvaluatorScore.Exclusion.NONE),
        }
        for row in evaluator_rows
    ]
    return _store(
        competition=competition,
        snapshot_fields=snapshot_fields,
        bot_scores=bot_scores,
        daily_scores=daily_scores,
        evaluator_scores=evaluator_scores,
        started=started,
    )


def _assign_positions_and_ranks(bot_scores: list[BotScore]) -> None:
    def interval_of(score: BotScore) -> stats.Interval | None:
        if score.pass_rate is None:
            return None
        return stats.Interval(estimate=score.pass_rate, low=score.pass_low, high=score.pass_high)

    bot_scores.sort(key=lambda score: stats.leaderboard_sort_key(interval_of(score), score.bot.name))
    for position, score in enumerate(bot_scores, start=1):
        score.position = position
    competitors = [score for score in bot_scores if not score.bot.is_baseline]
    for score, rank in zip(competitors, stats.honest_ranks([interval_of(s) for s in competitors]), strict=True):
        score.rank = rank


def _replace(model: type[models.Model], rows: list[dict], *, key: list[str], scope: models.QuerySet) -> None:
    """Make the rows in `scope` exactly `rows` (dicts of column values), identified by the unique `key` columns.

    Only what differs from the stored rows is written: a recompute after a few judgments rewrites a few rows, not
    thousands (on Postgres every written row also costs index updates and its foreign-key checks at commit).
    """
    columns = key + [
        field.attname for field in model._meta.concrete_fields if not field.primary_key and field.attname not in key
    ]
    stored = {values[1 : len(key) + 1]: (values[0], values[1:]) for values in scope.values_list("pk", *columns)}
    wanted = {tuple(row[name] for name in key): tuple(row[name] for name in columns) for row in rows}
    stale = [pk for row_key, (pk, _values) in stored.items() if row_key not in wanted]
    changed = [values for row_key, values in wanted.items() if stored.get(row_key, (None, None))[1] != values]
    if stale:
        scope.filter(pk__in=stale).delete()
    if changed:
        model.objects.bulk_create(
            [model(**dict(zip(columns, values, strict=True))) for values in changed],
            batch_size=2000,
            update_conflicts=True,
            unique_fields=[model._meta.get_field(name).name for name in key],
            update_fields=[model._meta.get_field(name).name for name in columns[len(key) :]],
        )


def _store(
    *,
    competition: Competition,
    snapshot_fields: dict,
    bot_scores: list[BotScore],
    daily_scores: list[dict],
    evaluator_scores: list[dict],
    started: float,
) -> LeaderboardSnapshot:
    """Replace the stored figures in one transaction; the snapshot row lock serialises concurrent recomputes."""
    with transaction.atomic():
        LeaderboardSnapshot.objects.get_or_create(
            competition=competition, defaults={"computed_at": snapshot_fields["computed_at"]}
        )
        snapshot = LeaderboardSnapshot.objects.select_for_update().get(competition=competition)
        BotScore.objects.bulk_create(
            bot_scores,
            update_conflicts=True,
            unique_fields=["bot"],
            update_fields=[
                field.name for field in BotScore._meta.concrete_fields if field.name not in {"id", "bot", "competition"}
            ],
        )
        _replace(
            BotDailyScore,
            daily_scores,
            key=["bot_id", "day"],
            scope=BotDailyScore.objects.filter(bot__competition=competition),
        )
        _replace(
            EvaluatorScore,
            evaluator_scores,
            key=["competition_id", "user_id"],
            scope=EvaluatorScore.objects.filter(competition=competition),
        )
        for name, value in snapshot_fields.items():
            setattr(snapshot, name, value)
        snapshot.duration_ms = (time.perf_counter() - started) * 1000
        snapshot.save()
    return snapshot
