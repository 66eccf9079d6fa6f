from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.4567 → "45.7%"; empty for a missing figure."""
    if value is None or value == "":
        return "–"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def number(value, digits: int = 2) -> str:
    if value is None or value == "":
        return "–"
    return f"{float(value):.{int(digits)}f}"


FLAG_LABELS = {
    "same_verdict": _("Always the same verdict"),
    "straight_lined": _("Straight-lined ratings"),
    "fast": _("Judges within seconds"),
    "silent": _("Almost no own messages"),
    "contradicts_ratings": _("Verdicts against own ratings"),
    "failed_checks": _("Failed attention checks"),
}


@register.filter
def flag_label(flag: str) -> str:
    """A response-pattern flag (leaderboard.rater_quality.Flag) in words."""
    return FLAG_LABELS.get(flag, flag)


@register.filter
def points(value, digits: int = 1) -> str:
    """A difference of rates in percentage points: -0.123 → "−12.3"; empty for a missing figure."""
    if value is None or value == "":
        return "–"
    return f"{float(value) * 100:+.{int(digits)}f}".replace("-", "−")


@register.inclusion_tag("leaderboard/_analysis_plan.html")
def analysis_plan(competition):
    """The competition's analysis plan: the locked version with its hash, and every later change."""
    from leaderboard.selectors import analysis_plans

    return {"competition": competition, "plans": analysis_plans(competition=competition)}


@register.filter
def points_abs(value, digits: int = 0) -> str:
    """A margin in percentage points, without sign: 0.1 → "10"."""
    if value is None or value == "":
        return "–"
    return f"{abs(float(value)) * 100:.{int(digits)}f}"
