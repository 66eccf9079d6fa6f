"""The analysis plan: the statistical settings a competition's figures are computed with, and its hash. No Django.

The plan is locked when evaluation opens (the first record) and published on the competition page with its SHA-256,
so anyone can check that the figures were computed as declared before the results were known. A change made later
is recorded as a new version with its time and shown beside the first; exports carry the plan in force.
"""

import hashlib
import json

from . import inference
from .rater_quality import ExclusionRules
from .stats import CONFIDENCE

METHODS = {
    "rates": "judged-human share; Wilson score interval at the effective n = n / design effect, design effect = "
    "cluster-bootstrap variance over evaluators / binomial variance (at least 1)",
    "baseline_comparison": "bot − human baseline on the same bootstrap replicates; one-sided z test (bot judged human "
    "less often) and TOST equivalence within ±margin; Holm across bots; verdict at alpha",
    "ranks": "1 + bots whose interval lies entirely above (Chatbot Arena); bootstrap rank intervals",
    "ratings": "mean with a percentile cluster-bootstrap interval; none for fewer than 2 ratings or 2 evaluators",
    "evaluators": "response-pattern flags; flagged evaluators named in exclusion_rules.exclude do not count",
}


def analysis_plan(
    *,
    min_turns_to_count: int,
    equivalence_margin: float,
    min_judgments_to_rank: int,
    exclusion_rules: dict | None,
    attention_checks: dict | None = None,
) -> dict:
    """The plan as plain data. `attention_checks` (one check in each block of `every_judged_chats` judged chats, at
    most `per_evaluator`) appears only when there are checks, so plans without them keep the hash they had."""
    content = {
        "version": 1,
        "min_turns_to_count": min_turns_to_count,
        "equivalence_margin": equivalence_margin,
        "min_judgments_to_rank": min_judgments_to_rank,
        "exclusion_rules": ExclusionRules.from_dict(exclusion_rules).as_dict(),
        "confidence": CONFIDENCE,
        "alpha": inference.ALPHA,
        "power_for_more_judgments": inference.POWER,
        "bootstrap_replicates": inference.REPLICATES,
        "bootstrap_unit": "evaluator",
        "methods": METHODS,
    }
    if attention_checks is not None:
        content["attention_checks"] = attention_checks
    return content


def plan_hash(plan: dict) -> str:
    """SHA-256 of the plan as canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(plan, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
