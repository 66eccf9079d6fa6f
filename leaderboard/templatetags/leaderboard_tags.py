from django import template

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
