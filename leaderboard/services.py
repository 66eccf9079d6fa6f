"""Recomputing a competition's leaderboard, and scheduling that recompute without flooding the workers."""

import time
from dataclasses import replace

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone

from competitions.models import Bot, Competition
from review.selectors import attention_check_plan, gold_answers_per_evaluator

from . import aggregates, inference, plan, rater_quality, stats
from .models import AnalysisPlan, BotDailyScore, BotScore, EvaluatorScore, LeaderboardSnapshot
from .rater_quality import ExclusionRules, Pattern

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


def _matrices(cells: np.ndarray, evaluators: np.ndarray, partners: list[int | None], criteria: int) -> dict:
    """Evaluators × partners arrays from the per-evaluator-and-partner rows (rows of other evaluators are left out)."""
    shape = (len(evaluators), len(partners))
    arrays = {name: np.zeros(shape) for name in ("n", "human", "confidence")}
    arrays["criteria"] = [(np.zeros(shape), np.zeros(shape)) for _ in range(criteria)]
    if len(evaluators) == 0 or len(cells) == 0:
        return arrays
    rows = np.searchsorted(evaluators, cells[:, 0])
    known = (rows < len(evaluators)) & (evaluators[np.minimum(rows, len(evaluators) - 1)] == cells[:, 0])
    column_of = {partner: index for index, partner in enumerate(partners) if partner is not None}
    bots, where = np.unique(np.nan_to_num(cells[:, 1], nan=-1), return_inverse=True)
    column_of_bot = np.array([column_of.get(int(bot), -1) if bot >= 0 else partners.index(None) for bot in bots])
    columns = column_of_bot[where]
    keep = known & (columns >= 0)
    rows, columns, kept = rows[keep], columns[keep], cells[keep]
    arrays["n"][rows, columns] = kept[:, 2]
    arrays["human"][rows, columns] = kept[:, 3]
    arrays["confidence"][rows, columns] = kept[:, 4]
    for index, (counts, totals) in enumerate(arrays["criteria"]):
        counts[rows, columns] = kept[:, 5 + 2 * index]
        totals[rows, columns] = kept[:, 6 + 2 * index]
    return arrays


def _criteria_figures(arrays: dict, weights: np.ndarray, keys: list[str], replicates: list[np.ndarray]) -> list[dict]:
    """Per partner (column): {key: {n, evaluators, mean, low, high}}, intervals from the same bootstrap replicates."""
    figures: list[dict] = [{} for _ in range(arrays["n"].shape[1])]
    for key, (counts, totals), ratios in zip(keys, arrays["criteria"], replicates, strict=True):
        for column, mean in enumerate(inference.clustered_means(counts, totals, weights, replicates=ratios)):
            if mean.ratings:
                figures[column][key] = {
                    "n": mean.ratings,
                    "evaluators": mean.evaluators,
                    "mean": mean.estimate,
                    "low": mean.low,
                    "high": mean.high,
                }
    return figures


def _with_attention_checks(patterns: dict[int, Pattern], competition_id: int) -> dict[int, Pattern]:
    """The response patterns with each evaluator's gold items answered and failed (transcript review's gold items,
    met as attention checks in the evaluate flow or on the review page): the one place they join."""
    gold = gold_answers_per_evaluator(competition_id=competition_id)
    return {
        evaluator: replace(pattern, gold_items=gold[evaluator][0], gold_failed=gold[evaluator][1])
        if evaluator in gold
        else pattern
        for evaluator, pattern in patterns.items()
    }


def _flags(patterns: dict, rules: ExclusionRules) -> tuple[dict[int, dict[str, str]], set[int]]:
    """Each evaluator's response-pattern flags and the evaluators the declared rules exclude."""
    raised = {evaluator: rater_quality.flags(pattern, rules) for evaluator, pattern in patterns.items()}
    excluded = {evaluator for evaluator, flags in raised.items() if rater_quality.excluded(flags, rules)}
    return raised, excluded


def bootstrap_figures(
    cells: np.ndarray, evaluators: np.ndarray, partners: list[int | None], *, competition: Competition, keys: list[str]
) -> tuple[list[inference.Rate], np.ndarray, list[dict], np.ndarray, list[inference.Comparison]]:
    """The statistics of the partners (bots, then None for the human baseline) from the counted per-evaluator rows
    of the given evaluators: rates with their replicates, rating figures, confidence sums, and each bot against the
    baseline under the competition's plan. One set of bootstrap weights (seeded by the competition) serves all."""
    arrays = _matrices(cells, evaluators, partners, len(keys))
    weights = inference.bootstrap_weights(len(evaluators), seed=competition.pk)
    rate_replicates, *criteria_replicates = inference.ratio_replicates(
        weights,
        [(arrays["human"], arrays["n"])] + [(totals, counts) for counts, totals in arrays["criteria"]],
    )
    rates, replicates = inference.clustered_rates(arrays["n"], arrays["human"], weights, replicates=rate_replicates)
    criteria = _criteria_figures(arrays, weights, keys, criteria_replicates)
    comparisons = inference.compare_to_baseline(
        rates[:-1],
        replicates[:, :-1],
        rates[-1],
        replicates[:, -1],
        margin=competition.equivalence_margin,
        min_judgments=competition.min_judgments_to_rank,
    )
    return rates, replicates, criteria, arrays["confidence"].sum(axis=0), comparisons


def competition_recompute(*, competition_id: int) -> LeaderboardSnapshot:
    """Compute every figure of one competition from its judgments and store it. Idempotent: same input, same rows
    (the bootstrap's seed is the competition's id)."""
    started = time.perf_counter()
    competition = Competition.objects.get(pk=competition_id)
    plan = analysis_plan_record(competition=competition)
    keys = competition.criteria_keys
    rules = ExclusionRules.from_dict(competition.exclusion_rules)
    exclusions = aggregates.Exclusions.for_competition(competition)
    figures = aggregates.judgment_figures(competition, exclusions)
    excluded_counts = figures.exclusion_counts
    evaluator_counts = aggregates.evaluator_counts(competition)
    evaluator_figures = aggregates.evaluator_figures(competition, exclusions, rules)
    cells = evaluator_figures.cells
    flags, flagged = _flags(_with_attention_checks(evaluator_figures.patterns, competition.pk), rules)
    exclusion_of = {
        user_id: (
            EvaluatorScore.Exclusion.SUSPENDED if status == "suspended" else EvaluatorScore.Exclusion.NOT_ONBOARDED
        )
        for user_id, status in aggregates.excluded_evaluators(competition).values_list("user_id", "status")
    }
    exclusion_of.update(dict.fromkeys(flagged - exclusion_of.keys(), EvaluatorScore.Exclusion.FLAGGED))
    chats = aggregates.chats_per_bot(competition)
    latency = aggregates.median_latency_per_bot(competition)
    bots = list(Bot.objects.filter(competition_id=competition.pk).only("id", "name", "is_baseline"))

    flagged_rows = np.isin(cells[:, 0], list(flagged))
    evaluators = np.unique(cells[~flagged_rows, 0])
    partners: list[int | None] = [bot.pk for bot in bots] + [None]
    rates, replicates, criteria, confidence_sums, comparisons = bootstrap_figures(
        cells, evaluators, partners, competition=competition, keys=keys
    )
    baseline = rates[-1]

    computed_at = timezone.now()
    bot_scores = []
    for column, bot in enumerate(bots):
        rate, comparison = rates[column], comparisons[column]
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
                judgments=rate.judgments,
                evaluators=rate.evaluators,
                judged_human=rate.judged_human,
                design_effect=rate.design_effect,
                pass_rate=rate.estimate,
                pass_low=rate.low,
                pass_high=rate.high,
                difference=comparison.difference,
                difference_low=comparison.low,
                difference_high=comparison.high,
                p_less=comparison.p_less,
                p_less_holm=comparison.p_less_holm,
                p_equivalent=comparison.p_equivalent,
                p_equivalent_holm=comparison.p_equivalent_holm,
                verdict=comparison.verdict.value,
                more_judgments=comparison.more_judgments,
                mean_confidence=confidence_sums[column] / rate.judgments if rate.judgments else None,
                criteria=criteria[column],
                median_latency_ms=latency.get(bot.pk),
            )
        )
    _assign_ranks_and_positions(bot_scores, replicates, min_judgments=competition.min_judgments_to_rank)

    flagged_judgments = int(cells[flagged_rows, 2].sum())
    snapshot_fields = {
        "computed_at": computed_at,
        "plan_sha256": plan.sha256 if plan is not None else "",
        "equivalence_margin": competition.equivalence_margin,
        "min_judgments_to_rank": competition.min_judgments_to_rank,
        "criteria": [{"key": c["key"], "label": c.get("label", c["key"])} for c in competition.criteria],
        "judgments_total": excluded_counts["total"],
        "judgments_counted": excluded_counts["total"]
        - excluded_counts["short"]
        - excluded_counts["bot_failed"]
        - excluded_counts["excluded_evaluator"]
        - flagged_judgments,
        "excluded_short_judgments": excluded_counts["short"],
        "excluded_bot_failed_judgments": excluded_counts["bot_failed"],
        "excluded_evaluator_judgments": excluded_counts["excluded_evaluator"],
        "excluded_flagged_judgments": flagged_judgments,
        "bot_failed_chats": sum(failed for _finished, failed in chats.values()),
        "evaluators_total": evaluator_counts["total"],
        "evaluators_counted": len(evaluators),
        "evaluators_suspended": evaluator_counts["suspended"],
        "evaluators_not_onboarded": evaluator_counts["not_onboarded"],
        "evaluators_flagged": sum(1 for status in exclusion_of.values() if status == EvaluatorScore.Exclusion.FLAGGED),
        "baseline_judgments": baseline.judgments,
        "baseline_evaluators": baseline.evaluators,
        "baseline_judged_human": baseline.judged_human,
        "baseline_design_effect": baseline.design_effect,
        "baseline_rate": baseline.estimate,
        "baseline_low": baseline.low,
        "baseline_high": baseline.high,
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
            "flags": flags.get(row["evaluator_id"], {}),
        }
        for row in figures.evaluator_rows
    ]
    return _store(
        competition=competition,
        snapshot_fields=snapshot_fields,
        bot_scores=bot_scores,
        daily_scores=daily_scores,
        evaluator_scores=evaluator_scores,
        started=started,
    )


def _assign_ranks_and_positions(bot_scores: list[BotScore], replicates: np.ndarray, *, min_judgments: int) -> None:
    """Rank competitors with at least `min_judgments` (Arena rule, bootstrap rank interval); order the table by rank,
    then rate, with unranked bots (baselines, too few judgments) after them by rate."""
    ranked = [
        column
        for column, score in enumerate(bot_scores)
        if not score.bot.is_baseline and score.pass_rate is not None and score.judgments >= min_judgments
    ]
    rates = [
        inference.Rate(s.judgments, s.evaluators, int(s.judged_human), s.pass_rate, s.pass_low, s.pass_high, 1.0, None)
        for s in (bot_scores[column] for column in ranked)
    ]
    for column, rank in zip(ranked, inference.ranks_with_intervals(rates, replicates[:, ranked]), strict=True):
        score = bot_scores[column]
        score.rank, score.rank_low, score.rank_high = rank.rank, rank.low, rank.high

    def order(score: BotScore) -> tuple:
        rate = -score.pass_rate if score.pass_rate is not None else 1.0
        if score.rank is not None:
            return (0, score.rank, rate, score.bot.name)
        return (1, 0, rate, score.bot.name)

    bot_scores.sort(key=order)
    for position, score in enumerate(bot_scores, start=1):
        score.position = position


def analysis_plan_record(*, competition: Competition) -> AnalysisPlan | None:
    """Lock the analysis plan when evaluation opens, and record any later change as a new version.

    Called when the phase moves to evaluation, when an organizer saves the competition, and by every recompute (so
    a change made any other way is recorded within a minute). Before evaluation there is nothing to lock: returns None.
    """
    if competition.phase not in (Competition.Phase.EVALUATION, Competition.Phase.CLOSED):
        return None
    content = plan.analysis_plan(
        min_turns_to_count=competition.min_turns_to_count,
        equivalence_margin=competition.equivalence_margin,
        min_judgments_to_rank=competition.min_judgments_to_rank,
        exclusion_rules=competition.exclusion_rules,
        attention_checks=attention_check_plan(competition_id=competition.pk),
    )
    digest = plan.plan_hash(content)
    with transaction.atomic():
        # The competition row lock serialises two recorders, so one change is recorded once.
        Competition.objects.select_for_update().filter(pk=competition.pk).first()
        latest = AnalysisPlan.objects.filter(competition=competition).order_by("-recorded_at", "-id").first()
        if latest is not None and latest.sha256 == digest:
            return latest
        kind = AnalysisPlan.Kind.LOCKED if latest is None else AnalysisPlan.Kind.CHANGED
        return AnalysisPlan.objects.create(
            competition=competition, kind=kind, plan=content, sha256=digest, recorded_at=timezone.now()
        )


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
