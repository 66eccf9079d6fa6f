"""Geometry of the leaderboard's interval chart, with no Django import.

The template draws the SVG from these numbers, so labels are escaped by the template engine and the page
needs no JavaScript to show the error bars.
"""

from dataclasses import dataclass

LABEL_WIDTH = 170
PLOT_WIDTH = 480
RIGHT_MARGIN = 20
ROW_HEIGHT = 22
TOP_MARGIN = 28
BOTTOM_MARGIN = 30


@dataclass(frozen=True)
class ChartRow:
    label: str
    y: float
    x_rate: float
    x_low: float
    x_high: float
    is_baseline: bool
    rate: float
    low: float
    high: float


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    rows: list[ChartRow]
    ticks: list[Tick]
    baseline_x: float | None
    baseline_low_x: float | None
    baseline_width: float | None
    # The "human baseline" label's text-anchor: kept inside the drawing near either edge of the axis.
    baseline_anchor: str = "middle"

    @property
    def plot_height(self) -> int:
        return self.plot_bottom - self.plot_top


def _x(value: float) -> float:
    return round(LABEL_WIDTH + value * PLOT_WIDTH, 1)


def interval_chart(
    entries: list[tuple[str, float, float, float, bool]],
    *,
    baseline: tuple[float, float, float] | None,
) -> Chart:
    """Lay out one row per (label, rate, low, high, is_baseline) on a 0–100 % axis, with the human baseline."""
    plot_top = TOP_MARGIN
    plot_bottom = TOP_MARGIN + max(1, len(entries)) * ROW_HEIGHT
    rows = [
        ChartRow(
            label=label,
            y=plot_top + index * ROW_HEIGHT + ROW_HEIGHT / 2,
            x_rate=_x(rate),
            x_low=_x(low),
            x_high=_x(high),
            is_baseline=is_baseline,
            rate=rate,
            low=low,
            high=high,
        )
        for index, (label, rate, low, high, is_baseline) in enumerate(entries)
    ]
    ticks = [Tick(x=_x(step / 4), label=f"{step * 25}%") for step in range(5)]
    baseline_x = baseline_low_x = baseline_width = None
    if baseline is not None:
        rate, low, high = baseline
        baseline_x, baseline_low_x = _x(rate), _x(low)
        baseline_width = round(_x(high) - _x(low), 1)
    return Chart(
        width=LABEL_WIDTH + PLOT_WIDTH + RIGHT_MARGIN,
        height=plot_bottom + BOTTOM_MARGIN,
        plot_left=LABEL_WIDTH,
        plot_right=LABEL_WIDTH + PLOT_WIDTH,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        rows=rows,
        ticks=ticks,
        baseline_x=baseline_x,
        baseline_low_x=baseline_low_x,
        baseline_width=baseline_width,
        baseline_anchor=_label_anchor(baseline[0]) if baseline is not None else "middle",
    )


def _label_anchor(rate: float) -> str:
    """A label centred on a line near the axis' ends would run out of the drawing: anchor it on the inner side."""
    if rate > 0.8:
        return "end"
    if rate < 0.2:
        return "start"
    return "middle"
