"""Do the leaderboard's statistics hold? Simulated competitions with known truth, through the platform's estimators.

    .venv/bin/python bench/stats_validity.py                 # 1,000 competitions, 1,000 bootstrap replicates each
    .venv/bin/python bench/stats_validity.py --competitions 200 --replicates 500   # quicker look

Each competition is the one of the audit in issue 12: 300 evaluators judging 9 bots (true judged-human rates 0.05–0.60,
and one bot exactly as human as the humans) and each other in control chats (humans at 0.70). Honest evaluators
differ in leniency (a random intercept on the logit scale, sd 0.6) and human partners differ in how human they come
across (sd 0.4); the number of chats per evaluator is uneven (1 to 60, geometric-like). 20% of evaluators are bad:
8% random clickers (fast, nearly silent), 6% "always bot" with straight-lined ratings, 6% adversarial (verdict
flipped, ratings honest). A second run adds the attention checks of the evaluate flow as the platform gives them
(review.services.attention_check_due): one gold transcript in each block of `--check-every` judged chats (default 2), at
a random position in the block, at most `--checks-max` per evaluator (default 6), shown before the next chat, so an
evaluator who stops meets only the checks due before their last chat; honest evaluators answer 5% of them wrongly,
clickers and "always bot" evaluators half, adversarial ones 95%. A third has honest evaluators only. The truth is the
honest evaluators' population rate: E[expit(logit p + u)].

Everything runs through leaderboard.rater_quality (flags and exclusions, default rules), leaderboard.inference
(cluster bootstrap, comparisons with the baseline, Holm, TOST, ranks); the old figures (plain Wilson over every
judgment) are shown beside them. Prints coverage of every nominal 95% interval (goal 94–96%), the mean absolute error
of the headline rates (goal ≤ 0.03), the false "distinguishable" rate for the bot equal to humans (goal ≤ 5%), the
rank-interval coverage, and whether each goal is met.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from leaderboard import inference, rater_quality, stats

BOT_RATES = np.array([0.05, 0.12, 0.19, 0.26, 0.33, 0.40, 0.50, 0.60, 0.70])
EQUAL_BOT = 8  # the bot as human as the humans
HUMAN_RATE = 0.70
EVALUATORS = 300
CONTROL_SHARE = 0.2
LENIENCY_SD = 0.6
PARTNER_SD = 0.4
CLICKERS, ALWAYS_BOT, ADVERSARIAL = 0.08, 0.06, 0.06
HONEST, CLICKER, ALWAYS, ADVERSE = 0, 1, 2, 3
RULES = rater_quality.ExclusionRules()


def logit(p):
    return np.log(p / (1 - p))


def expit(x):
    return 1 / (1 + np.exp(-x))


def population_rate(p: float, sd: float) -> float:
    """E[expit(logit p + u)], u ~ N(0, sd²), by Gauss–Hermite quadrature."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    return float((weights * expit(logit(p) + sd * nodes)).sum() / weights.sum())


BOT_TRUTH = np.array([population_rate(p, LENIENCY_SD) for p in BOT_RATES])
HUMAN_TRUTH = population_rate(HUMAN_RATE, float(np.hypot(LENIENCY_SD, PARTNER_SD)))
BOT_TRUTH[EQUAL_BOT] = HUMAN_TRUTH  # the equal bot is exactly as human as the humans, partners' spread included


CHECK_EVERY, CHECKS_MAX = 2, 6  # the recommended attention checks: one per block of 2 judged chats, at most 6


def checks_met(rng: np.random.Generator, chats: np.ndarray, every: int, most: int) -> np.ndarray:
    """Per evaluator, the attention checks met: check c is due once c·every + offset chats are judged (offset drawn in
    1..every) and is shown before the next chat, so it is met only if the evaluator starts another one."""
    if every <= 0 or most <= 0:
        return np.zeros(chats.size, dtype=int)
    due_after = np.arange(most) * every + rng.integers(1, every + 1, size=(chats.size, most))
    return (due_after <= (chats - 1)[:, None]).sum(axis=1)


def simulate(rng: np.random.Generator, bad_share: float, checks: tuple[int, int] = (0, 0)) -> dict:
    """One competition: per judgment (evaluator, partner column, verdict, ratings) and per-evaluator patterns."""
    kinds = rng.choice(
        [HONEST, CLICKER, ALWAYS, ADVERSE],
        size=EVALUATORS,
        p=[1 - bad_share, *(share * bad_share / 0.2 for share in (CLICKERS, ALWAYS_BOT, ADVERSARIAL))],
    )
    leniency = rng.normal(0, LENIENCY_SD, EVALUATORS)
    partner_effect = rng.normal(0, PARTNER_SD, EVALUATORS)
    chats = np.minimum(60, rng.geometric(1 / 14, EVALUATORS))
    evaluator = np.repeat(np.arange(EVALUATORS), chats)
    count = evaluator.size
    control = rng.random(count) < CONTROL_SHARE
    bot = rng.integers(0, BOT_RATES.size, count)
    column = np.where(control, BOT_RATES.size, bot)  # the last column is the human baseline
    partner = rng.integers(0, EVALUATORS, count)
    base = np.where(control, logit(HUMAN_RATE) + partner_effect[partner], logit(BOT_RATES[bot]))
    perceived = expit(base + leniency[evaluator])
    honest_verdict = rng.random(count) < perceived
    kind = kinds[evaluator]
    verdict = np.select(
        [kind == CLICKER, kind == ALWAYS, kind == ADVERSE],
        [rng.random(count) < 0.5, np.zeros(count, bool), ~honest_verdict],
        honest_verdict,
    )
    rating = np.clip(np.rint(1 + 4 * perceived + rng.normal(0, 0.8, count)), 1, 5)
    rating = np.where(kind == CLICKER, rng.integers(1, 6, count), rating)
    rating = np.where(kind == ALWAYS, 1, rating)
    other = np.clip(rating + rng.integers(-1, 2, count), 1, 5)  # a second criterion, for straight-lining
    other = np.where(kind == ALWAYS, 1, other)
    seconds = np.where(kind == CLICKER, rng.uniform(0.5, 4, count), rng.lognormal(np.log(25), 0.6, count))
    messages = np.where(kind == CLICKER, rng.integers(0, 2, count), rng.integers(1, 9, count))
    wrong = np.select([kinds == CLICKER, kinds == ALWAYS, kinds == ADVERSE], [0.5, 0.5, 0.95], 0.05)
    gold = checks_met(rng, chats, *checks)
    gold_failed = rng.binomial(gold, wrong)
    return {
        "gold_items": gold,
        "gold_failed": gold_failed,
        "evaluator": evaluator,
        "column": column,
        "verdict": verdict,
        "rating": rating,
        "other": other,
        "seconds": seconds,
        "messages": messages,
        "kinds": kinds,
    }


def patterns(data: dict) -> list[rater_quality.Pattern]:
    evaluator, verdict, rating = data["evaluator"], data["verdict"], data["rating"]
    result = []
    starts = np.searchsorted(evaluator, np.arange(EVALUATORS + 1))
    for e in range(EVALUATORS):
        part = slice(starts[e], starts[e + 1])
        v, r = verdict[part], rating[part]
        sets = len(set(zip(r.tolist(), data["other"][part].tolist(), strict=True)))
        result.append(
            rater_quality.Pattern(
                judgments=int(v.size),
                human_verdicts=int(v.sum()),
                distinct_ratings=sets,
                fast=int((data["seconds"][part] <= RULES.fast_seconds).sum()),
                silent=int((data["messages"][part] <= RULES.silent_max_messages).sum()),
                human_verdict_rating_n=int(v.sum()),
                human_verdict_rating_sum=float(r[v].sum()),
                bot_verdict_rating_n=int((~v).sum()),
                bot_verdict_rating_sum=float(r[~v].sum()),
                gold_items=int(data["gold_items"][e]),
                gold_failed=int(data["gold_failed"][e]),
            )
        )
    return result


def tallies(data: dict, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Evaluators × partners judgments and human verdicts, for the kept evaluators only."""
    columns = BOT_RATES.size + 1
    index = data["evaluator"] * columns + data["column"]
    n = np.bincount(index, minlength=EVALUATORS * columns).reshape(EVALUATORS, columns)
    h = np.bincount(index, weights=data["verdict"], minlength=EVALUATORS * columns).reshape(EVALUATORS, columns)
    return n[keep], h[keep]


def true_ranks(ranked: np.ndarray) -> np.ndarray:
    truth = BOT_TRUTH[ranked]
    return np.array([1 + int((truth > t + 1e-12).sum()) for t in truth])


def run(competitions: int, replicates: int, bad_share: float, seed: int, checks: tuple[int, int] = (0, 0)) -> dict:
    rng = np.random.default_rng(seed)
    bots = BOT_RATES.size
    covered = np.zeros(bots + 1)
    covered_old = np.zeros(bots + 1)
    covered_difference = np.zeros(bots)
    tested_difference = np.zeros(bots)
    errors, errors_old = [], []
    false_distinguishable = 0
    equal_equivalent = 0
    false_equivalent = tested_far = 0
    rank_covered = rank_total = exact_rank = 0
    flagged_bad = flagged_honest = bad_total = honest_total = 0
    checks_total = 0
    for replicate in range(competitions):
        data = simulate(rng, bad_share, checks)
        checks_total += int(data["gold_items"].sum())
        raised = [rater_quality.flags(p, RULES) for p in patterns(data)]
        keep = np.array([not rater_quality.excluded(r, RULES) for r in raised])
        bad = data["kinds"] != HONEST
        flagged_bad += int((~keep & bad).sum())
        bad_total += int(bad.sum())
        flagged_honest += int((~keep & ~bad).sum())
        honest_total += int((~bad).sum())
        n, h = tallies(data, keep)
        weights = inference.bootstrap_weights(n.shape[0], replicates=replicates, seed=replicate)
        rates, values = inference.clustered_rates(n, h, weights)
        truth = np.append(BOT_TRUTH, HUMAN_TRUTH)
        for column, rate in enumerate(rates):
            covered[column] += rate.low <= truth[column] <= rate.high
            errors.append(abs(rate.estimate - truth[column]))
        old_n, old_h = tallies(data, np.ones(EVALUATORS, bool))
        for column in range(bots + 1):
            old = stats.wilson_interval(old_h[:, column].sum(), old_n[:, column].sum())
            covered_old[column] += old.low <= truth[column] <= old.high
            errors_old.append(abs(old.estimate - truth[column]))
        comparisons = inference.compare_to_baseline(rates[:bots], values[:, :bots], rates[bots], values[:, bots])
        for column, comparison in enumerate(comparisons):
            if comparison.difference is None:
                continue
            tested_difference[column] += 1
            covered_difference[column] += comparison.low <= truth[column] - HUMAN_TRUTH <= comparison.high
            far = abs(truth[column] - HUMAN_TRUTH) >= inference.DEFAULT_MARGIN
            if far:
                tested_far += 1
                false_equivalent += comparison.verdict == inference.Verdict.INDISTINGUISHABLE
        false_distinguishable += comparisons[EQUAL_BOT].verdict == inference.Verdict.DISTINGUISHABLE
        equal_equivalent += comparisons[EQUAL_BOT].verdict == inference.Verdict.INDISTINGUISHABLE
        ranked = np.array([c for c in range(bots) if rates[c].judgments >= inference.DEFAULT_MIN_JUDGMENTS])
        ranks = inference.ranks_with_intervals([rates[c] for c in ranked], values[:, ranked])
        truth_ranks = true_ranks(ranked)
        for rank, true_rank in zip(ranks, truth_ranks, strict=True):
            rank_total += 1
            rank_covered += rank.low <= true_rank <= rank.high
            exact_rank += rank.rank <= true_rank  # Arena's rank never claims better than the truth
    return {
        "coverage": covered / competitions,
        "coverage_old": covered_old / competitions,
        "difference_coverage": covered_difference / np.maximum(tested_difference, 1),
        "mae": float(np.mean(errors)),
        "mae_old": float(np.mean(errors_old)),
        "false_distinguishable": false_distinguishable / competitions,
        "equal_equivalent": equal_equivalent / competitions,
        "false_equivalent": false_equivalent / max(tested_far, 1),
        "rank_coverage": rank_covered / max(rank_total, 1),
        "arena_rank_not_optimistic": exact_rank / max(rank_total, 1),
        "flagged_bad": flagged_bad / max(bad_total, 1),
        "flagged_honest": flagged_honest / max(honest_total, 1),
        "checks_per_evaluator": checks_total / (competitions * EVALUATORS),
    }


def goal(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(title: str, result: dict, competitions: int) -> None:
    coverage = result["coverage"]
    print(f"\n== {title} ({competitions:,} competitions) ==")
    labels = [f"bot {p:.2f}" for p in BOT_RATES] + ["humans"]
    print("coverage of nominal 95% intervals, by partner (true rate in brackets):")
    truth = np.append(BOT_TRUTH, HUMAN_TRUTH)
    for label, value, old, t in zip(labels, coverage, result["coverage_old"], truth, strict=True):
        print(f"  {label:<10} [{t:.3f}]  clustered {value * 100:5.1f}%   plain Wilson (before) {old * 100:5.1f}%")
    bots, humans = coverage[:-1], coverage[-1]
    noise = 2 * np.sqrt(0.95 * 0.05 / competitions) * 100
    print(
        f"  range over bots {bots.min() * 100:.1f}–{bots.max() * 100:.1f}% (mean {bots.mean() * 100:.1f}%), humans "
        f"{humans * 100:.1f}%: goal 94–96% {goal(bots.min() >= 0.94 and bots.max() <= 0.96 and 0.94 <= humans <= 0.96)}"
        f" (each figure ±{noise:.1f} points of simulation noise, 2 SE)"
    )
    difference = result["difference_coverage"]
    print(
        f"coverage of the bot − humans difference intervals: {difference.min() * 100:.1f}–{difference.max() * 100:.1f}%"
    )
    print(
        f"mean absolute error of headline rates vs honest truth: {result['mae']:.4f} "
        f"(before: {result['mae_old']:.4f}); "
        f"goal ≤ 0.03 {goal(result['mae'] <= 0.03)}"
    )
    print(
        f"false 'distinguishable' for the bot equal to humans: {result['false_distinguishable'] * 100:.1f}%; "
        f"goal ≤ 5% {goal(result['false_distinguishable'] <= 0.05)}"
    )
    print(f"  the same bot called 'indistinguishable within ±10 points': {result['equal_equivalent'] * 100:.1f}%")
    print(f"false 'indistinguishable' for bots ≥ 10 points from humans: {result['false_equivalent'] * 100:.1f}%")
    print(f"rank-interval coverage of the true rank: {result['rank_coverage'] * 100:.1f}%")
    print(f"Arena rank never better than the true rank: {result['arena_rank_not_optimistic'] * 100:.1f}% of bots")
    print(
        f"evaluators excluded by the response-pattern rules: {result['flagged_bad'] * 100:.1f}% of bad ones, "
        f"{result['flagged_honest'] * 100:.1f}% of honest ones"
        + (
            f" (attention checks met: {result['checks_per_evaluator']:.2f} per evaluator)"
            if result["checks_per_evaluator"]
            else ""
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--competitions", type=int, default=1000)
    parser.add_argument("--replicates", type=int, default=inference.REPLICATES)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--check-every", type=int, default=CHECK_EVERY, help="one attention check per this many chats")
    parser.add_argument("--checks-max", type=int, default=CHECKS_MAX, help="attention checks per evaluator, at most")
    args = parser.parse_args()
    checks = (args.check_every, args.checks_max)
    scenarios = [
        ("20% bad evaluators, response-pattern rules only", 0.2, (0, 0)),
        (
            f"20% bad evaluators, plus attention checks (1 per {args.check_every} judged chats, at most "
            f"{args.checks_max})",
            0.2,
            checks,
        ),
        ("honest evaluators only", 0.0, (0, 0)),
    ]
    for title, bad_share, scenario_checks in scenarios:
        started = time.perf_counter()
        result = run(args.competitions, args.replicates, bad_share, args.seed, scenario_checks)
        report(title, result, args.competitions)
        print(f"({time.perf_counter() - started:.1f} s, {args.replicates:,} bootstrap replicates per competition)")


if __name__ == "__main__":
    main()
